import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { AuditEvent, PromoteInput } from '../../ports.ts';
import { conditionExpression, expression, toAttributes, updateExpression } from './dynamoDbExpression.ts';
import { auditItem, keys } from './dynamoDbItems.ts';

/**
 * Pointer + numbered history entry + "promoted here" marker + `pointedBy` on both versions + audit,
 * conditioned on the version still live, the pointer still at promotion number `seen`, and (with an
 * enforced order) the marker of the prior stage existing.
 */
export function promotionTransaction(
  table: string,
  input: PromoteInput,
  current: string | null,
  seen: number | undefined,
  audit: AuditEvent,
): TransactWriteItem[] {
  const { namespace: ns, package: pkg, version, stage, requirePriorStage: prior } = input;
  const seq = (seen ?? 0) + 1;
  const at = input.now.toISOString();
  const stages = new Set([stage]);
  const items: TransactWriteItem[] = [
    {
      Update: {
        TableName: table,
        Key: toAttributes(keys.version(ns, pkg, version)),
        ...updateExpression({
          update: 'ADD #pointedBy :stages',
          condition: '#state = :live',
          values: { ':stages': stages, ':live': 'live' },
        }),
      },
    },
    {
      Update: {
        TableName: table,
        Key: toAttributes(keys.stage(ns, pkg, stage)),
        ...updateExpression({
          update:
            'SET #kind = :kind, #stage = :stage, #version = :version, #promotedAt = :at, #by = :by, #promotions = :seq',
          condition: seen === undefined ? 'attribute_not_exists(#pk)' : '#promotions = :seen',
          values: {
            ':kind': 'stage',
            ':stage': stage,
            ':version': version,
            ':at': at,
            ':by': input.by,
            ':seq': seq,
            ':seen': seen,
          },
        }),
      },
    },
    {
      Put: {
        TableName: table,
        Item: toAttributes({
          ...keys.promotion(ns, pkg, stage, seq),
          kind: 'promotion',
          stage,
          version,
          previousVersion: current,
          promotedAt: at,
          by: input.by,
        }),
      },
    },
    {
      Put: {
        TableName: table,
        Item: toAttributes({
          ...keys.promoted(ns, pkg, version, stage),
          kind: 'promoted',
          lastPromotedAt: at,
        }),
        // Promoting to the very stage that must come first: the marker must already be there.
        ...(prior === stage ? expression({ condition: 'attribute_exists(#pk)' }) : {}),
      },
    },
    { Put: { TableName: table, Item: toAttributes(auditItem(audit)) } },
  ];
  if (prior && prior !== stage) {
    items.push({
      ConditionCheck: {
        TableName: table,
        Key: toAttributes(keys.promoted(ns, pkg, version, prior)),
        ...conditionExpression({ condition: 'attribute_exists(#pk)' }),
      },
    });
  }
  if (current !== null) {
    items.push({
      Update: {
        TableName: table,
        Key: toAttributes(keys.version(ns, pkg, current)),
        ...updateExpression({
          update: 'DELETE #pointedBy :stages',
          condition: 'attribute_exists(#pk)',
          values: { ':stages': stages },
        }),
      },
    });
  }
  return items;
}
