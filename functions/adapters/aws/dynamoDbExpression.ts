import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

/**
 * Builds the expression parameters of an Update / Put / Condition. Every attribute is written as
 * `#name` (so reserved words such as `state`, `size` and `ttl` need no thought) and only the names
 * and `:values` an expression actually uses are sent, since DynamoDB rejects unused ones.
 */
export function expression(parts: {
  readonly update?: string;
  readonly condition?: string;
  readonly values?: Record<string, unknown>;
}) {
  const text = `${parts.update ?? ''} ${parts.condition ?? ''}`;
  const names = Object.fromEntries([...new Set(text.match(/#\w+/g) ?? [])].map((n) => [n, n.slice(1)]));
  const used = new Set(text.match(/:\w+/g) ?? []);
  const values = Object.fromEntries(Object.entries(parts.values ?? {}).filter(([k]) => used.has(k)));
  return {
    ...(parts.update ? { UpdateExpression: parts.update } : {}),
    ...(parts.condition ? { ConditionExpression: parts.condition } : {}),
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: toAttributes(values) } : {}),
  };
}

/** `expression` for an Update, whose UpdateExpression is required. */
export function updateExpression(parts: {
  readonly update: string;
  readonly condition?: string;
  readonly values?: Record<string, unknown>;
}) {
  return { ...expression(parts), UpdateExpression: parts.update };
}

/** Marshals a record, dropping `undefined` fields (optional fields of the domain records). */
export const toAttributes = (value: Record<string, unknown>): Record<string, AttributeValue> =>
  marshall(value, { removeUndefinedValues: true });

/** `expression` for a ConditionCheck, whose ConditionExpression is required. */
export function conditionExpression(parts: {
  readonly condition: string;
  readonly values?: Record<string, unknown>;
}) {
  return { ...expression(parts), ConditionExpression: parts.condition };
}
