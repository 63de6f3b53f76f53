import type { ChatCore } from '../../core/chat-core.js';
import { parseId } from '../../core/paging.js';
import { isChatError, isUnavailable, RETRY_AFTER_S } from '../../domain/errors.js';
import type { DomainEvent } from '../../domain/events.js';
import { displayName } from '../../domain/user.js';
import { encodeOnce } from '../../realtime/encode-once.js';
import type { SessionRegistry } from '../../realtime/session-registry.js';
import type { Session } from '../../realtime/session.js';
import type { Logger } from '../../ports/logger.js';
import { tokenFromAuthorization } from '../shared/bearer-token.js';
import { deliveredBodies, type EncodedBody, messageBody, messageDeletedBody, messageUpdatedBody, newChatBody, newMessageBody, presenceBody, typingBody } from './stomp-events.js';
import { negotiateVersion, StompProtocolError, type StompFrame, type StompVersion } from './stomp-frame.js';
import { encodeFrame, escapeHeader, negotiateHeartbeat } from './stomp-frame-encoder.js';
import { StompFrameParser } from './stomp-frame-parser.js';
import { runAppDestination, type AppAction } from './stomp-app-destinations.js';

/** How a connection reaches its client: a plain WebSocket or a SockJS session. */
export interface StompWire {
  readonly transport: 'websocket' | 'sockjs';
  /** Returns false when the data was not queued (closed, or an ephemeral drop for a slow peer). */
  send(data: string, ephemeral: boolean): boolean;
  close(code: number, reason: string): void;
}

export interface StompOptions {
  /** The server's heart-beat offer, both directions (Spring's 10000,10000). */
  readonly heartbeatMs: number;
  readonly maxFrameBytes: number;
  /** A frame must be complete (NUL-terminated) this long after its first byte. */
  readonly incompleteFrameMs: number;
  /** CONNECT must arrive this long after the transport opened. */
  readonly connectTimeoutMs: number;
}

export interface StompDeps {
  readonly core: ChatCore;
  readonly registry: SessionRegistry;
  readonly log: Logger;
  readonly options: StompOptions;
}

type SubscriptionKind = 'chat' | 'notifications' | 'history' | 'errors';
interface Subscription {
  readonly kind: SubscriptionKind;
  readonly chatId: number;
  /** destination and id, already escaped for the wire. */
  readonly head: string;
}

export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_HEARTBEAT_TIMEOUT = 4000;
const MAX_QUEUED_FRAMES = 256;
const MAX_SUBSCRIPTIONS = 1000;
const USER_QUEUES: Record<string, SubscriptionKind> = {
  '/user/queue/notifications': 'notifications',
  '/user/queue/history': 'history',
  '/user/queue/errors': 'errors',
};
const TOPIC_CHAT = /^\/topic\/chat\/([^/]+)$/;
const APP_CHAT = /^\/app\/chat\/([^/]+)\/(sendMessage|typing|loadHistory|editMessage|deleteMessage)$/;

const deny = (): StompProtocolError => new StompProtocolError('Access denied', 'You are not a member of this chat');

/**
 * One STOMP session over any wire: decodes frames, authenticates CONNECT, keeps
 * subscriptions, calls the core for `/app/...` sends, and renders domain events to its
 * subscriptions. Frames are handled one after another, so a SUBSCRIBE is in place before a
 * SEND that follows it. Any protocol error answers ERROR and closes, as STOMP 1.2 and Spring do.
 */
export class StompConnection implements Session {
  readonly id: string;
  readonly dialect = 'stomp' as const;
  userId = '';
  private state: 'connecting' | 'connected' | 'closed' = 'connecting';
  private registered = false;
  private version: StompVersion = '1.2';
  private readonly parser: StompFrameParser;
  private readonly subscriptions = new Map<string, Subscription>();
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private counter = 0;
  private lastReceived = Date.now();
  private timers: NodeJS.Timeout[] = [];
  private incompleteTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: StompDeps,
    private readonly wire: StompWire,
    private readonly handshakeToken: string | null,
  ) {
    this.id = deps.registry.newSessionId();
    this.parser = new StompFrameParser(deps.options.maxFrameBytes);
    const connectTimer = setTimeout(() => {
      // A CONNECT already read (its version fixed) is being authenticated: let it finish.
      if (this.state === 'connecting' && this.parser.version === null) this.fail(new StompProtocolError('CONNECT expected', `No CONNECT frame within ${deps.options.connectTimeoutMs} ms`));
    }, deps.options.connectTimeoutMs);
    connectTimer.unref();
    this.timers.push(connectTimer);
  }

  /** Bytes or text from the wire, in any chunking. */
  receive(chunk: Buffer | string): void {
    if (this.state === 'closed') return;
    this.lastReceived = Date.now();
    let frames: StompFrame[];
    try {
      frames = this.parser.push(chunk).frames;
    } catch (err) {
      this.fail(err);
      return;
    }
    this.watchIncompleteFrame(frames.length > 0);
    for (const frame of frames) {
      if (++this.queued > MAX_QUEUED_FRAMES) {
        this.fail(new StompProtocolError('Too many frames', `More than ${MAX_QUEUED_FRAMES} frames are waiting to be processed`));
        return;
      }
      this.queue = this.queue.then(async () => {
        this.queued--;
        if (this.state === 'closed') return;
        try {
          await this.process(frame);
        } catch (err) {
          this.fail(err, frame);
        }
      });
    }
  }

  /** The wire closed (peer, network, or our own close). */
  transportClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const t of this.timers) clearTimeout(t);
    if (this.incompleteTimer) clearTimeout(this.incompleteTimer);
    this.subscriptions.clear();
    if (this.registered) {
      this.registered = false;
      void this.deps.registry.remove(this);
    }
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.wire.close(code, reason);
    this.transportClosed();
  }

  handle(event: DomainEvent): boolean {
    if (this.state !== 'connected') return false;
    switch (event.type) {
      case 'message.created': {
        const wrote = this.toChat(event.chatId, messageBody(event), false);
        if (event.message.senderId !== this.userId) this.toQueue('notifications', newMessageBody(event));
        return wrote;
      }
      case 'message.updated':
        this.toChat(event.chatId, messageUpdatedBody(event), false);
        return false;
      case 'message.deleted':
        this.toChat(event.chatId, messageDeletedBody(event), false);
        return false;
      case 'typing':
        if (event.userId !== this.userId) this.toChat(event.chatId, typingBody(event), true);
        return false;
      case 'presence':
        if (event.userId === this.userId) return false;
        for (const chatId of event.chatIds) if (this.subscribedTo(chatId)) this.toChat(chatId, presenceBody(event, chatId), true);
        return false;
      case 'receipt.delivered': {
        // One flush carries a receipt per message and recipient (~9 per message in a group of
        // 10): they go out back to back in one wire message, as STOMP's framing allows (every
        // frame ends in NUL; clients parse a stream), instead of one WebSocket message each.
        let frames = '';
        for (const sub of this.subscriptions.values()) {
          if (sub.kind !== 'chat' || sub.chatId !== event.chatId) continue;
          for (const body of deliveredBodies(event)) frames += this.messageFrame(sub, body);
        }
        if (frames !== '') this.wire.send(frames, false);
        return false;
      }
      case 'chat.created':
        if (event.actorId !== this.userId) this.newChat(event, event.chat.type === 'private' ? null : event.chat.name);
        return false;
      case 'members.added':
        if (event.actorId !== this.userId && event.userIds.includes(this.userId)) this.newChat(event, event.chat.name);
        return false;
      default:
        return false;
    }
  }

  /** The seed's way: the chat's subscriptions end (see `dropChat`). */
  lostAccess(chatId: number): void {
    this.dropChat(chatId);
  }

  /** HISTORY answers go to every local session of the user subscribed to `/user/queue/history`. */
  deliverHistory(body: EncodedBody): void {
    if (this.state === 'connected') this.toQueue('history', body);
  }

  // ---- frames ---------------------------------------------------------------------------------

  private async process(frame: StompFrame): Promise<void> {
    const { command } = frame;
    if (command === 'CONNECT' || command === 'STOMP') {
      if (this.state === 'connected') throw new StompProtocolError('Already connected', 'CONNECT was sent twice');
      await this.connect(frame);
      return;
    }
    if (this.state !== 'connected') throw new StompProtocolError('Not connected', `Send CONNECT before ${command}`);
    switch (command) {
      case 'SUBSCRIBE':
        await this.subscribe(frame);
        break;
      case 'UNSUBSCRIBE': {
        const id = frame.headers.get('id') ?? (this.version === '1.0' ? frame.headers.get('destination') : undefined);
        if (id === undefined) throw new StompProtocolError('Missing id header', 'UNSUBSCRIBE needs the subscription id');
        this.subscriptions.delete(id);
        break;
      }
      case 'SEND':
        await this.send(frame);
        break;
      case 'DISCONNECT':
        this.receipt(frame);
        this.close(1000, 'disconnect');
        return;
      default:
        // ACK, NACK, BEGIN, COMMIT, ABORT: tolerated; subscriptions are auto-ack, sends immediate.
        break;
    }
    this.receipt(frame);
  }

  private async connect(frame: StompFrame): Promise<void> {
    const version = this.parser.version ?? negotiateVersion(frame.headers.get('accept-version'));
    if (version === null) {
      this.wire.send(encodeFrame('ERROR', { version: '1.2,1.1,1.0', 'content-type': 'text/plain', message: 'Unsupported protocol version' }, 'Supported protocol versions are 1.2,1.1,1.0', '1.2'), false);
      this.close(CLOSE_PROTOCOL_ERROR, 'unsupported version');
      return;
    }
    this.version = version;
    const h = frame.headers;
    const token = tokenFromAuthorization(h.get('Authorization') ?? h.get('authorization')) ?? tokenFromAuthorization(h.get('token')) ?? this.handshakeToken;
    let user;
    try {
      user = await this.deps.core.authenticate(token);
    } catch (err) {
      if (isUnavailable(err)) throw err; // ERROR with retry-after, not "Unauthorized"
      this.deps.log.info({ dialect: 'stomp', transport: this.wire.transport, reason: token ? 'invalid token' : 'no token' }, 'auth failure');
      throw new StompProtocolError('Unauthorized', 'A valid token is required: CONNECT header Authorization: Bearer <jwt> (or token), or ?token= on the URL');
    }
    if (this.state === 'closed') return;
    this.userId = user.id;
    const hb = negotiateHeartbeat(h.get('heart-beat'), this.deps.options.heartbeatMs);
    this.state = 'connected';
    this.registered = true;
    await this.deps.registry.add(this);
    if ((this.state as string) === 'closed') {
      void this.deps.registry.remove(this);
      return;
    }
    this.wire.send(encodeFrame('CONNECTED', { version, 'heart-beat': hb.header, server: 'polychat/0.1.0', session: this.id, 'user-name': user.id }), false);
    this.startHeartbeats(hb.sendEveryMs, hb.expectEveryMs);
  }

  private async subscribe(frame: StompFrame): Promise<void> {
    const destination = frame.headers.get('destination');
    if (destination === undefined) throw new StompProtocolError('Missing destination header', 'SUBSCRIBE needs a destination');
    const id = frame.headers.get('id') ?? (this.version === '1.0' ? destination : undefined);
    if (id === undefined) throw new StompProtocolError('Missing id header', 'SUBSCRIBE needs a subscription id');
    if (this.subscriptions.has(id)) throw new StompProtocolError('Duplicate subscription id', `Subscription ${id} already exists`);
    if (this.subscriptions.size >= MAX_SUBSCRIPTIONS) throw new StompProtocolError('Too many subscriptions', `At most ${MAX_SUBSCRIPTIONS} per connection`);
    const head = `destination:${escapeHeader(destination, this.version)}\ncontent-type:application/json\nsubscription:${escapeHeader(id, this.version)}\n`;
    const queue = USER_QUEUES[destination];
    if (queue) {
      this.subscriptions.set(id, { kind: queue, chatId: 0, head });
      return;
    }
    const topic = TOPIC_CHAT.exec(destination);
    if (!topic) throw new StompProtocolError('Unknown destination', `Cannot subscribe to ${destination}; use /topic/chat/{chatId}, /user/queue/notifications or /user/queue/history`);
    const chatId = await this.access(topic[1], destination);
    if (this.state !== 'connected') return;
    this.subscriptions.set(id, { kind: 'chat', chatId, head });
  }

  private async send(frame: StompFrame): Promise<void> {
    const destination = frame.headers.get('destination');
    if (destination === undefined) throw new StompProtocolError('Missing destination header', 'SEND needs a destination');
    const match = APP_CHAT.exec(destination);
    if (!match) throw new StompProtocolError('Unknown destination', `Cannot send to ${destination}; use /app/chat/{chatId}/sendMessage, /typing, /loadHistory, /editMessage or /deleteMessage`);
    const chatId = await this.access(match[1], destination);
    // A retried sendMessage (same clientMessageId) is published to nobody: this connection alone
    // gets the original MESSAGE again on its chat subscription.
    const history = await runAppDestination(this.deps.core, this.userId, chatId, match[2] as AppAction, frame.body, (replay) => this.handle(replay));
    if (history) for (const session of this.deps.registry.sessionsOf(this.userId)) if (session instanceof StompConnection) session.deliverHistory(history);
  }

  /** Membership check for a destination's chat id; an unknown chat is denied like a foreign one. */
  private async access(rawId: string | undefined, destination: string): Promise<number> {
    let chatId: number;
    try {
      chatId = parseId(rawId, 'chatId');
      await this.deps.core.checkAccess(this.userId, chatId);
    } catch (err) {
      if (isChatError(err) && (err.code === 'forbidden' || err.code === 'not_found' || err.code === 'bad_request')) {
        this.deps.log.info({ dialect: 'stomp', userId: this.userId, destination }, 'access denied');
        throw deny();
      }
      throw err;
    }
    return chatId;
  }

  // ---- writing --------------------------------------------------------------------------------

  private messageFrame(sub: Subscription, body: EncodedBody): string {
    return `MESSAGE\n${sub.head}message-id:${this.id}-${++this.counter}\ncontent-length:${body.length}\n\n${body.json}\u0000`;
  }

  private write(sub: Subscription, body: EncodedBody, ephemeral: boolean): boolean {
    return this.wire.send(this.messageFrame(sub, body), ephemeral);
  }

  private toChat(chatId: number, body: EncodedBody, ephemeral: boolean): boolean {
    let wrote = false;
    for (const sub of this.subscriptions.values()) if (sub.kind === 'chat' && sub.chatId === chatId && this.write(sub, body, ephemeral)) wrote = true;
    return wrote;
  }

  private toQueue(kind: SubscriptionKind, body: EncodedBody): void {
    for (const sub of this.subscriptions.values()) if (sub.kind === kind) this.write(sub, body, false);
  }

  private subscribedTo(chatId: number): boolean {
    for (const sub of this.subscriptions.values()) if (sub.kind === 'chat' && sub.chatId === chatId) return true;
    return false;
  }

  private dropChat(chatId: number): void {
    for (const [id, sub] of this.subscriptions) if (sub.kind === 'chat' && sub.chatId === chatId) this.subscriptions.delete(id);
  }

  /** NEW_CHAT: the preview is the chat name, or for a private chat the creator's name (one lookup per event). */
  private newChat(event: Extract<DomainEvent, { type: 'chat.created' | 'members.added' }>, name: string | null): void {
    const body = encodeOnce(event, 'stomp:NEW_CHAT', async () => {
      const preview = name ?? displayName(await this.deps.core.getUser(event.actorId));
      return newChatBody(event.chatId, event.actorId, preview);
    });
    body.then(
      (b) => this.state === 'connected' && this.toQueue('notifications', b),
      () => {},
    );
  }

  private receipt(frame: StompFrame): void {
    const receipt = frame.headers.get('receipt');
    if (receipt !== undefined) this.wire.send(encodeFrame('RECEIPT', { 'receipt-id': receipt }, '', this.version), false);
  }

  /** ERROR with a `message` header and a body, then close (STOMP 1.2; Spring does the same). */
  private fail(err: unknown, frame?: StompFrame): void {
    if (this.state === 'closed') return;
    let message: string;
    let details: string;
    if (err instanceof StompProtocolError) {
      message = err.message;
      details = err.details || err.message;
    } else if (isChatError(err)) {
      message = err.code === 'forbidden' ? 'Access denied' : err.message;
      details = err.message;
    } else {
      this.deps.log.error({ err: { message: (err as Error)?.message }, dialect: 'stomp' }, 'stomp frame failed');
      message = 'Internal server error';
      details = message;
    }
    const headers: Record<string, string> = { message, 'content-type': 'text/plain' };
    // An outage: the client may reconnect after this many seconds (as HTTP's Retry-After).
    if (isUnavailable(err)) headers['retry-after'] = String(RETRY_AFTER_S);
    const receipt = frame?.headers.get('receipt');
    if (receipt !== undefined) headers['receipt-id'] = receipt;
    this.wire.send(encodeFrame('ERROR', headers, details, this.version), false);
    this.close(CLOSE_PROTOCOL_ERROR, message.slice(0, 100));
  }

  private startHeartbeats(sendEveryMs: number, expectEveryMs: number): void {
    if (sendEveryMs > 0) {
      const t = setInterval(() => this.wire.send('\n', true), sendEveryMs);
      t.unref();
      this.timers.push(t);
    }
    if (expectEveryMs > 0) {
      const t = setInterval(() => {
        if (Date.now() - this.lastReceived > expectEveryMs * 2) {
          this.deps.log.info({ dialect: 'stomp', userId: this.userId, sessionId: this.id }, 'heart-beat timeout');
          this.close(CLOSE_HEARTBEAT_TIMEOUT, 'heart-beat timeout');
        }
      }, expectEveryMs);
      t.unref();
      this.timers.push(t);
    }
  }

  private watchIncompleteFrame(completedSome: boolean): void {
    if (!this.parser.pending) {
      if (this.incompleteTimer) clearTimeout(this.incompleteTimer);
      this.incompleteTimer = null;
      return;
    }
    if (this.incompleteTimer && !completedSome) return;
    if (this.incompleteTimer) clearTimeout(this.incompleteTimer);
    const ms = this.deps.options.incompleteFrameMs;
    this.incompleteTimer = setTimeout(() => this.fail(new StompProtocolError('Incomplete frame', `A frame was not terminated by NUL within ${ms} ms`)), ms);
    this.incompleteTimer.unref();
  }
}
