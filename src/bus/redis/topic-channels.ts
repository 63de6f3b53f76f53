import type { DomainEvent } from '../../domain/events.js';
import type { EventHandler, Topic } from '../../ports/broker.js';
import type { Logger } from '../../ports/logger.js';

/** What travels on a (shard) channel: the event plus the publishing instance. */
export interface Envelope {
  readonly i: string;
  readonly e: DomainEvent;
}

export interface Subscription {
  readonly handler: EventHandler;
}

/**
 * The interest that changed since the last flush: topics wanted but not subscribed remotely,
 * and topics subscribed but no longer wanted. Clears `dirty`. Shared by the Redis and Redis
 * Cluster brokers, which differ only in how they send the commands.
 */
export function interestChanges(dirty: Set<Topic>, handlers: ReadonlyMap<Topic, unknown>, remote: ReadonlySet<Topic>): { add: Topic[]; drop: Topic[] } {
  const add: Topic[] = [];
  const drop: Topic[] = [];
  for (const topic of dirty) {
    const wanted = handlers.has(topic);
    if (wanted && !remote.has(topic)) add.push(topic);
    else if (!wanted && remote.has(topic)) drop.push(topic);
  }
  dirty.clear();
  return { add, drop };
}

/**
 * Decodes one channel message and hands it to the topic's local handlers: a message that is not
 * an envelope is logged and skipped, a throwing handler is logged and the others still run.
 */
export function deliverToHandlers(text: string, channel: string, topic: Topic, subs: Iterable<Subscription>, log: Logger): void {
  let envelope: Envelope | null = null;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch {
    // reported below
  }
  if (!envelope || typeof envelope !== 'object' || !envelope.e || typeof envelope.e.type !== 'string') {
    log.warn({ channel }, 'malformed bus message ignored');
    return;
  }
  for (const { handler } of subs) {
    try {
      handler(envelope.e, topic);
    } catch (err) {
      log.error({ err: { message: (err as Error).message }, topic }, 'bus handler threw');
    }
  }
}

/** The envelope of one event, serialized once for every topic it goes to. */
export function encodeEnvelope(instanceId: string, event: DomainEvent): string {
  return JSON.stringify({ i: instanceId, e: event } satisfies Envelope);
}

/**
 * Counts events dropped because the bus was unreachable when they were published (at-most-once),
 * with a warning at most every 5 s.
 */
export class DropCounter {
  private count = 0;
  private lastWarn = 0;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  get dropped(): number {
    return this.count;
  }

  drop(): void {
    this.count++;
    const now = Date.now();
    if (now - this.lastWarn < 5000) return;
    this.lastWarn = now;
    this.log.warn({ dropped: this.count }, `${this.what} unreachable: bus event dropped (at-most-once; clients catch up by seq)`);
  }
}

/** Runs the `onResubscribed` callbacks after every topic is subscribed again; one that throws is logged, the others still run. */
export function notifyResubscribed(callbacks: Iterable<() => void>, log: Logger): void {
  for (const cb of [...callbacks]) {
    try {
      cb();
    } catch (err) {
      log.error({ err: { message: (err as Error).message } }, 'onResubscribed callback threw');
    }
  }
}
