import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { ENV } from '../../config/env.ts';
import type { CoreDeps } from '../../core/deps.ts';
import { createHandler as createEventsHandler } from '../../handlers/events.ts';
import { createHandler as createScanHandler } from '../../handlers/scan.ts';
import type { Clock } from '../../ports.ts';
import { PrometheusMetrics } from '../prometheus/prometheusMetrics.ts';
import { type AwsClients, awsClients, clientConfig, createAwsClients } from './clients.ts';
import { awsDeps } from './deps.ts';
import { type ProvisionedResources, provision, resourceNames } from './provision.ts';
import { SqsPoller } from './sqsPoller.ts';
import { StreamPoller } from './streamPoller.ts';

export interface AwsBackendOptions {
  readonly clients?: AwsClients;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Long-poll wait of the scan poller, seconds (default 5). */
  readonly pollWaitSeconds?: number;
  /** Leave the poller stopped (tests drive it with `poller.pollOnce`). */
  readonly startPoller?: boolean;
}

/** The AWS backend as the local server hosts it (its `HostedBackend`): S3 serves the signed URLs. */
export interface AwsBackend {
  readonly deps: CoreDeps;
  readonly resources: ProvisionedResources;
  readonly poller: SqsPoller;
  /**
   * With an event bus (`ARCA_EVENT_BUS`): the table's stream fed to the events handler, as the stack's
   * events Lambda is. The API does not emit, as on AWS; the scan worker does.
   */
  readonly relay?: StreamPoller;
  /** `/metrics` of the local server: the API's and the in-process scan worker's SLIs. */
  readonly metrics: PrometheusMetrics;
  close(): Promise<void>;
}

/**
 * `ARCA_BACKEND=aws` on one machine: the same adapters as the Lambdas, resources provisioned first
 * when asked (`ARCA_PROVISION`, implied by `AWS_ENDPOINT_URL`), and the scan Lambda's handler fed by
 * an in-process SQS poller (the events Lambda's by a stream poller), since no emulator here runs
 * Lambda without Docker.
 */
export async function createAwsBackend(
  env: NodeJS.ProcessEnv = process.env,
  options: AwsBackendOptions = {},
): Promise<AwsBackend> {
  const clients = options.clients ?? (env === process.env ? awsClients() : createAwsClients(env));
  const names = resourceNames(env);
  const wantsProvision = env[ENV.provision]
    ? env[ENV.provision] !== 'false'
    : Boolean(env[ENV.awsEndpointUrl]);
  const emits = Boolean(env[ENV.eventBus]);
  const resources = wantsProvision
    ? await provision(clients, names, { stream: emits })
    : await locate(clients, names);
  const metrics = new PrometheusMetrics();
  const workerDeps = {
    ...awsDeps(env, { clients, ...(options.clock ? { clock: options.clock } : {}) }),
    metrics,
  };
  const { events: _relayed, ...deps } = workerDeps;
  const logger = options.logger ?? new Logger({ serviceName: 'arca-scan' });
  const scan = createScanHandler(workerDeps, { logger });
  const poller = new SqsPoller({
    sqs: clients.sqs,
    queueUrl: resources.scanQueueUrl,
    queueArn: resources.scanQueueArn,
    handle: (event) => scan(event, {} as Context),
    waitTimeSeconds: options.pollWaitSeconds ?? 5,
    onError: (error) => logger.error('scan queue poll failed', { error }),
  });
  const relay = emits ? eventsRelay(env, clients, names.table, workerDeps, logger) : undefined;
  if (options.startPoller !== false) {
    poller.start();
    relay?.start();
  }
  const close = async () => {
    await Promise.all([poller.stop(), relay?.stop()]);
  };
  return { deps, resources, poller, ...(relay ? { relay } : {}), metrics, close };
}

/** The events Lambda's handler fed from the table's stream, as its event source mapping would. */
function eventsRelay(
  env: NodeJS.ProcessEnv,
  clients: AwsClients,
  table: string,
  deps: CoreDeps,
  logger: Logger,
): StreamPoller {
  const relayEvents = createEventsHandler(deps, { logger });
  return new StreamPoller({
    dynamodb: clients.dynamodb,
    // Only the local server reads the stream (Lambda does on AWS): its client stays out of the bundles.
    streams: new DynamoDBStreamsClient(clientConfig(env)),
    table,
    handle: (event) => relayEvents(event, {} as Context),
    onError: (error) => logger.error('events relay failed; read again', { error }),
  });
}

/** Finds the queue of resources someone else provisioned (the CDK stack, or an earlier run). */
async function locate(
  clients: AwsClients,
  names: ReturnType<typeof resourceNames>,
): Promise<ProvisionedResources> {
  const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: names.scanQueue }));
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { ...names, scanQueueUrl: QueueUrl!, scanQueueArn: Attributes!.QueueArn! };
}
