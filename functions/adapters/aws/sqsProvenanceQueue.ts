import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ProvenanceQueue, VersionRef } from '../../ports.ts';

/** The body of a provenance request on the scan queue, beside S3's event notifications. */
export interface ProvenanceMessage extends VersionRef {
  readonly arca: 'provenance';
}

export interface SqsProvenanceQueueOptions {
  readonly sqs: SQSClient;
  /** The scan queue: its URL when known, else looked up by its name (once). */
  readonly queue: { readonly url?: string; readonly name: string };
}

/**
 * Asks the scan function to sign a version by a message on its own queue: the API never holds
 * `kms:Sign`, and the request is retried (then dead-lettered) like any scan.
 */
export class SqsProvenanceQueue implements ProvenanceQueue {
  private url?: Promise<string>;

  constructor(private readonly options: SqsProvenanceQueueOptions) {}

  async request(ref: VersionRef): Promise<void> {
    const message: ProvenanceMessage = {
      arca: 'provenance',
      namespace: ref.namespace,
      package: ref.package,
      version: ref.version,
    };
    await this.options.sqs.send(
      new SendMessageCommand({ QueueUrl: await this.queueUrl(), MessageBody: JSON.stringify(message) }),
    );
  }

  private queueUrl(): Promise<string> {
    const { queue, sqs } = this.options;
    if (queue.url) return Promise.resolve(queue.url);
    this.url ??= sqs
      .send(new GetQueueUrlCommand({ QueueName: queue.name }))
      .then(({ QueueUrl }) => QueueUrl!);
    return this.url;
  }
}

/** The version a provenance message names; undefined for any other body (S3 events). */
export function provenanceRequestOf(body: unknown): VersionRef | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const m = body as Partial<ProvenanceMessage>;
  if (m.arca !== 'provenance') return undefined;
  if (typeof m.namespace !== 'string' || typeof m.package !== 'string' || typeof m.version !== 'string')
    return undefined;
  return { namespace: m.namespace, package: m.package, version: m.version };
}
