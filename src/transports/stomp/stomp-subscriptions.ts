import type { EncodedBody } from './stomp-events.js';
import { StompProtocolError, type StompFrame, type StompVersion } from './stomp-frame.js';
import { escapeHeader } from './stomp-frame-encoder.js';
import { batchFrame, messageFrame } from './stomp-shared-frames.js';
import type { StompWire } from './stomp-wire.js';

export type SubscriptionKind = 'chat' | 'notifications' | 'history' | 'errors';
interface Subscription {
  readonly kind: SubscriptionKind;
  readonly chatId: number;
  /** The chat had more than `LARGE_GROUP_SIZE` members at SUBSCRIBE: receipts come as cursors. */
  readonly large: boolean;
  /** destination and id, already escaped for the wire. */
  readonly head: string;
}

/** A SUBSCRIBE read and checked, not yet in place: a chat topic waits for its access check. */
export interface SubscribeRequest {
  readonly id: string;
  readonly destination: string;
  readonly head: string;
  /** A user queue, or the raw chat id of `/topic/chat/{id}`. */
  readonly target: { readonly queue: SubscriptionKind } | { readonly rawChatId: string | undefined };
}

const MAX_SUBSCRIPTIONS = 1000;
const USER_QUEUES: Record<string, SubscriptionKind> = {
  '/user/queue/notifications': 'notifications',
  '/user/queue/history': 'history',
  '/user/queue/errors': 'errors',
};
const TOPIC_CHAT = /^\/topic\/chat\/([^/]+)$/;

/**
 * One connection's subscriptions and the MESSAGE frames written to them. The frame head
 * (destination, subscription id) is escaped once at SUBSCRIBE; the frames themselves are built
 * once per body and head and shared across connections (`stomp-shared-frames.ts`).
 */
export class StompSubscriptions {
  private readonly byId = new Map<string, Subscription>();
  constructor(private readonly wire: StompWire) {}

  /** Reads a SUBSCRIBE's headers; throws the protocol error a bad one gets. */
  request(frame: StompFrame, version: StompVersion): SubscribeRequest {
    const destination = frame.headers.get('destination');
    if (destination === undefined) throw new StompProtocolError('Missing destination header', 'SUBSCRIBE needs a destination');
    const id = frame.headers.get('id') ?? (version === '1.0' ? destination : undefined);
    if (id === undefined) throw new StompProtocolError('Missing id header', 'SUBSCRIBE needs a subscription id');
    if (this.byId.has(id)) throw new StompProtocolError('Duplicate subscription id', `Subscription ${id} already exists`);
    if (this.byId.size >= MAX_SUBSCRIPTIONS) throw new StompProtocolError('Too many subscriptions', `At most ${MAX_SUBSCRIPTIONS} per connection`);
    const head = `destination:${escapeHeader(destination, version)}\ncontent-type:application/json\nsubscription:${escapeHeader(id, version)}\n`;
    const queue = USER_QUEUES[destination];
    if (queue) return { id, destination, head, target: { queue } };
    const topic = TOPIC_CHAT.exec(destination);
    if (!topic) throw new StompProtocolError('Unknown destination', `Cannot subscribe to ${destination}; use /topic/chat/{chatId}, /user/queue/notifications or /user/queue/history`);
    return { id, destination, head, target: { rawChatId: topic[1] } };
  }

  /** Puts a checked request in place; `chatId` is the authorized chat of a topic, 0 for a queue. */
  add(request: SubscribeRequest, chatId: number, large = false): void {
    const kind = 'queue' in request.target ? request.target.queue : 'chat';
    this.byId.set(request.id, { kind, chatId, large, head: request.head });
  }

  /** UNSUBSCRIBE: 1.0 clients may name the subscription by its destination. */
  remove(frame: StompFrame, version: StompVersion): void {
    const id = frame.headers.get('id') ?? (version === '1.0' ? frame.headers.get('destination') : undefined);
    if (id === undefined) throw new StompProtocolError('Missing id header', 'UNSUBSCRIBE needs the subscription id');
    this.byId.delete(id);
  }

  clear(): void {
    this.byId.clear();
  }

  /** Writes to every subscription of the chat; true when at least one write was queued. */
  toChat(chatId: number, body: EncodedBody, ephemeral: boolean): boolean {
    let wrote = false;
    for (const sub of this.byId.values()) if (sub.kind === 'chat' && sub.chatId === chatId && this.write(sub, body, ephemeral)) wrote = true;
    return wrote;
  }

  /** Several bodies for one chat in one wire message per subscription, instead of one WebSocket message each. */
  batchToChat(chatId: number, bodies: readonly EncodedBody[]): void {
    if (bodies.length === 0) return;
    for (const sub of this.byId.values()) if (sub.kind === 'chat' && sub.chatId === chatId) this.wire.send(batchFrame(sub.head, bodies), false);
  }

  toQueue(kind: SubscriptionKind, body: EncodedBody): void {
    for (const sub of this.byId.values()) if (sub.kind === kind) this.write(sub, body, false);
  }

  /** Whether a subscription of the chat was made while it was a large group. */
  largeChat(chatId: number): boolean {
    for (const sub of this.byId.values()) if (sub.kind === 'chat' && sub.chatId === chatId && sub.large) return true;
    return false;
  }

  subscribedTo(chatId: number): boolean {
    for (const sub of this.byId.values()) if (sub.kind === 'chat' && sub.chatId === chatId) return true;
    return false;
  }

  /** Lost access (removed, chat deleted): its topics just stop; STOMP has no frame to end a subscription. */
  dropChat(chatId: number): void {
    for (const [id, sub] of this.byId) if (sub.kind === 'chat' && sub.chatId === chatId) this.byId.delete(id);
  }

  private write(sub: Subscription, body: EncodedBody, ephemeral: boolean): boolean {
    return this.wire.send(messageFrame(sub.head, body), ephemeral);
  }
}
