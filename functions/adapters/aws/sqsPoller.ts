import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface SqsPollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn?: string;
  /** The scan handler, as Lambda's event source mapping would call it. */
  readonly handle: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** Long-poll wait per receive, seconds (default 5; 0 for tests that drain what is there). */
  readonly waitTimeSeconds?: number;
  /**
   * A failed message becomes visible again after this many seconds (default 5), rather than after the
   * queue's 15 minutes meant for Lambda: locally a retry should come soon.
   */
  readonly retryAfterSeconds?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Lambda's SQS event source mapping, in-process, for the local server with the AWS backend: receive a
 * batch, hand it to the handler, delete what succeeded, let the rest be redelivered.
 */
export class SqsPoller {
  private running: Promise<void> | undefined;
  private stopping = false;
  private abort = new AbortController();

  constructor(private readonly options: SqsPollerOptions) {}

  /** Receives and handles one batch; answers how many messages it received. */
  async pollOnce(waitTimeSeconds = this.options.waitTimeSeconds ?? 5): Promise<number> {
    const { sqs, queueUrl } = this.options;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return 0;
    const { batchItemFailures } = await this.options.handle({
      Records: messages.map((m) => this.toRecord(m)),
    });
    const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    for (const m of messages.filter((m) => failed.has(m.MessageId!))) {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: m.ReceiptHandle!,
          VisibilityTimeout: this.options.retryAfterSeconds ?? 5,
        }),
      );
    }
    return messages.length;
  }

  /** Polls until stop(); an error is reported and polling goes on after a pause. */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        try {
          await this.pollOnce();
        } catch (error) {
          if (this.stopping) break;
          this.options.onError?.(error);
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    })();
  }

  /** Stops polling: an in-flight long poll is abandoned, an in-flight batch finishes first. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.running;
    this.running = undefined;
    this.abort = new AbortController();
  }

  private toRecord(m: Message): SQSRecord {
    const attributes = (m.Attributes ?? {}) as Record<string, string>;
    return {
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? '0',
        SenderId: attributes.SenderId ?? '',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '0',
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn ?? '',
      awsRegion: '',
    };
  }
}
