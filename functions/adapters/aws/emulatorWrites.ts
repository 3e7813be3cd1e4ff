import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The DynamoDB commands that change items, and the snapshot read (TransactGetItems), which DynamoDB
 * serializes with transactions: on moto it could see one half applied (a session's verdict without
 * the blob the same transaction made available), so it waits its turn like a write.
 */
const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'TransactGetItemsCommand',
]);

/** One queue per process: every client pointed at the emulator shares it. */
let writes: Promise<unknown> = Promise.resolve();

/**
 * Sends this process's DynamoDB writes to an emulator one at a time. DynamoDB applies a conditional
 * write atomically and its transactions are serializable; moto's are not: it runs requests on threads,
 * checks and writes a transaction item by item, and a cancelled transaction restores a snapshot of the
 * whole table taken when it began, undoing whatever another writer committed meanwhile (a commit that
 * races a scan's cancelled transaction then vanishes). One local server is the only writer to its
 * emulator, so queueing its writes restores the guarantee the conditions rely on. Other reads still
 * interleave with writes, so read-then-conditional-write races still happen and are still decided by
 * the conditions. Applied only when `AWS_ENDPOINT_URL` points the clients at an emulator, never on AWS.
 *
 * The queue sits at the build step, inside anything added at the initialize step (the SDK's own
 * retries wrap it; so do tests' fault-injection hooks, which may send another write themselves).
 */
export function serializeWrites(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!WRITES.has(context.commandName ?? '')) return next(args);
      const turn = writes.then(() => next(args));
      writes = turn.catch(() => undefined);
      return turn;
    },
    { step: 'build', name: 'arcaSerializeEmulatorWrites' },
  );
}
