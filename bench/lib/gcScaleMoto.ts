import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createAwsClients } from '../../functions/adapters/aws/clients.ts';
import { awsDeps } from '../../functions/adapters/aws/deps.ts';
import type { DynamoDbIndex } from '../../functions/adapters/aws/dynamoDbIndex.ts';
import { provision } from '../../functions/adapters/aws/provision.ts';
import type { CoreDeps } from '../../functions/core/deps.ts';
import type { Clock } from '../../functions/ports.ts';
import { PROTECTED_PACKAGES, VERSIONS_PER_PACKAGE } from './gcScaleSeed.ts';
import { putSeededBlobs, seedScaleVersionsDynamoDb } from './gcScaleSeedDynamoDb.ts';
import { type Moto, motoCommand, startMoto } from './moto.ts';

const DAY_MS = 86_400_000;
const NAME = 'arca-gc-scale';

export interface SeededMotoStore {
  readonly deps: CoreDeps;
  readonly seedSeconds: number;
  readonly items: number;
  /** DynamoDB requests the core has sent since the seed, by command: what GC costs on any DynamoDB. */
  readonly requests: Map<string, number>;
  stop(): Promise<void>;
}

/**
 * A moto of its own (the publish cases' moto is stopped by then, and this table must start empty)
 * holding the AWS backend's table and bucket, seeded with `count` versions as gcScaleSeedDynamoDb.ts
 * writes them, and the core wired to it as the GC Lambda wires it. Undefined without moto.
 */
export async function seededMotoStore(
  dir: string,
  count: number,
  clock: Clock,
  progress: (written: number) => void,
): Promise<SeededMotoStore | undefined> {
  const command = motoCommand();
  if (!command) return undefined;
  const moto: Moto = await startMoto(command, dir);
  // The SDK's default credential chain reads this process's environment: moto's test credentials
  // stand there while this store lives, and what stood before is put back when it stops.
  const saved = Object.fromEntries(Object.keys(moto.env).map((name) => [name, process.env[name]]));
  const stop = async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await moto.child.stop();
  };
  Object.assign(process.env, moto.env);
  try {
    const env = { ...process.env, POWERTOOLS_METRICS_DISABLED: 'true' };
    const clients = createAwsClients(env);
    const resources = await provision(clients, { bucket: NAME, table: NAME, scanQueue: NAME });
    const deps = awsDeps(
      {
        ...env,
        ARCA_BUCKET: resources.bucket,
        ARCA_TABLE: resources.table,
        ARCA_SCAN_QUEUE: resources.scanQueue,
        ARCA_CURSOR_SECRET: 'bench-gc-scale',
      },
      { clients, clock },
    );
    const started = performance.now();
    const items = await seedScaleVersionsDynamoDb({
      // Not queued behind the index's writes (`serializeWrites`): the seed's puts are independent.
      dynamodb: new DynamoDBClient({ region: 'us-east-1', endpoint: moto.endpoint }),
      index: deps.index as DynamoDbIndex,
      table: resources.table,
      count,
      committedAt: new Date(clock.now().getTime() - 60 * DAY_MS),
      leaseUntil: new Date(clock.now().getTime() + 365 * DAY_MS),
      // As many as the embedded seed at a million (100 of 90,909 packages each promoted and leased),
      // and a tenth of the packages each at smaller counts, so some packages' oldest version is due.
      protectedPackages: Math.min(PROTECTED_PACKAGES, Math.floor(count / VERSIONS_PER_PACKAGE / 10)),
      progress,
    });
    await putSeededBlobs(clients.s3, resources.bucket, count);
    const seedSeconds = (performance.now() - started) / 1000;
    const requests = new Map<string, number>();
    clients.dynamodb.middlewareStack.add(
      (next, context) => (args) => {
        const command = context.commandName ?? 'unknown';
        requests.set(command, (requests.get(command) ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'benchCountRequests' },
    );
    return { deps, seedSeconds, items, requests, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
