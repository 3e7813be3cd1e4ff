import * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.ts';
import { EVENT_SOURCE } from '../../functions/core/events.ts';

/**
 * The store's event bus: every state change lands here as `Source` `arca`, `DetailType` the
 * CloudEvents type and `Detail` the CloudEvents document (docs/events.md). Add rules to it for
 * whatever should react (a deploy pipeline, a chat channel, an audit archive).
 */
export class StoreEventBus extends Construct {
  public readonly bus: events.EventBus;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      description: 'Arca state changes as CloudEvents (docs/events.md)',
    });
  }

  /** The `source` of every event Arca puts on the bus, for event patterns. */
  public static readonly SOURCE = EVENT_SOURCE;

  /** Lets `fn` emit: puts events on this bus, named in its environment. */
  public grantEmit(fn: lambda.Function): void {
    fn.addEnvironment(ENV.eventBus, this.bus.eventBusName);
    this.bus.grantPutEventsTo(fn);
  }
}
