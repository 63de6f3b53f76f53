import type { ChatCore } from '../../core/chat-core.js';
import { parseId } from '../../core/paging.js';
import type { DomainEvent } from '../../domain/events.js';
import { displayName } from '../../domain/user.js';
import type { Logger } from '../../ports/logger.js';
import { encodeOnce } from '../../realtime/encode-once.js';
import type { SessionRegistry } from '../../realtime/session-registry.js';
import type { Session } from '../../realtime/session.js';
import { parseAppDestination, runAppDestination } from './stomp-app-destinations.js';
import { authenticateConnect } from './stomp-connect.js';
import { accessDenied, CLOSE_HEARTBEAT_TIMEOUT, CLOSE_PROTOCOL_ERROR, errorFrame, refusesDestination, unsupportedVersionFrame } from './stomp-errors.js';
import { deliverEvent, type StompEventTarget } from './stomp-event-delivery.js';
import { newChatBody, type EncodedBody } from './stomp-events.js';
import { negotiateVersion, StompProtocolError, type StompFrame, type StompVersion } from './stomp-frame.js';
import { dispatchFrame, type StompFrameHandlers } from './stomp-frame-dispatch.js';
import { StompFrameDeadline } from './stomp-frame-deadline.js';
import { encodeFrame, negotiateHeartbeat } from './stomp-frame-encoder.js';
import { StompFrameParser } from './stomp-frame-parser.js';
import { StompHeartBeats } from './stomp-heart-beats.js';
import { StompSubscriptions } from './stomp-subscriptions.js';
import type { StompWire } from './stomp-wire.js';

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

const MAX_QUEUED_FRAMES = 256;

/**
 * One STOMP session over any wire: reads frames, handles them one after another (so a
 * SUBSCRIBE is in place before a SEND that follows it), and renders domain events to its
 * subscriptions. Any failure answers ERROR and closes, as STOMP 1.2 and Spring do.
 */
export class StompConnection implements Session, StompEventTarget {
  readonly id: string;
  readonly dialect = 'stomp' as const;
  userId = '';
  readonly subscriptions: StompSubscriptions;
  private state: 'connecting' | 'connected' | 'closed' = 'connecting';
  private registered = false;
  private version: StompVersion = '1.2';
  private readonly parser: StompFrameParser;
  private readonly heartBeats = new StompHeartBeats();
  private readonly frameDeadline: StompFrameDeadline;
  private readonly connectTimer: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly handlers: StompFrameHandlers = {
    isConnected: () => this.state === 'connected',
    connect: (frame) => this.connect(frame),
    subscribe: (frame) => this.subscribe(frame),
    unsubscribe: (frame) => this.subscriptions.remove(frame, this.version),
    send: (frame) => this.send(frame),
    disconnect: () => this.close(1000, 'disconnect'),
    receipt: (frame) => this.receipt(frame),
  };

  constructor(
    private readonly deps: StompDeps,
    private readonly wire: StompWire,
    private readonly handshakeToken: string | null,
  ) {
    this.id = deps.registry.newSessionId();
    this.subscriptions = new StompSubscriptions(wire);
    this.parser = new StompFrameParser(deps.options.maxFrameBytes);
    this.frameDeadline = new StompFrameDeadline(deps.options.incompleteFrameMs, (ms) => this.fail(new StompProtocolError('Incomplete frame', `A frame was not terminated by NUL within ${ms} ms`)));
    this.connectTimer = setTimeout(() => {
      // A CONNECT already read (its version fixed) is being authenticated: let it finish.
      if (this.state === 'connecting' && this.parser.version === null) this.fail(new StompProtocolError('CONNECT expected', `No CONNECT frame within ${deps.options.connectTimeoutMs} ms`));
    }, deps.options.connectTimeoutMs);
    this.connectTimer.unref();
  }

  /** Bytes or text from the wire, in any chunking. */
  receive(chunk: Buffer | string): void {
    if (this.state === 'closed') return;
    this.heartBeats.received();
    let frames: StompFrame[];
    try {
      frames = this.parser.push(chunk).frames;
    } catch (err) {
      this.fail(err);
      return;
    }
    this.frameDeadline.update(this.parser.pending, frames.length > 0);
    for (const frame of frames) {
      if (++this.queued > MAX_QUEUED_FRAMES) {
        this.fail(new StompProtocolError('Too many frames', `More than ${MAX_QUEUED_FRAMES} frames are waiting to be processed`));
        return;
      }
      this.queue = this.queue.then(async () => {
        this.queued--;
        if (this.state === 'closed') return;
        try {
          await dispatchFrame(frame, this.handlers);
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
    clearTimeout(this.connectTimer);
    this.heartBeats.stop();
    this.frameDeadline.stop();
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
    return this.state === 'connected' && deliverEvent(this, event);
  }

  /** The seed's way: the chat's subscriptions end, silently. */
  lostAccess(chatId: number): void {
    this.subscriptions.dropChat(chatId);
  }

  /** HISTORY answers go to every local session of the user subscribed to `/user/queue/history`. */
  deliverHistory(body: EncodedBody): void {
    if (this.state === 'connected') this.subscriptions.toQueue('history', body);
  }

  /** NEW_CHAT: the preview is the chat name, or for a private chat the creator's name (one lookup per event). */
  newChat(event: Extract<DomainEvent, { type: 'chat.created' | 'members.added' }>, name: string | null): void {
    const body = encodeOnce(event, 'stomp:NEW_CHAT', async () => {
      const preview = name ?? displayName(await this.deps.core.getUser(event.actorId));
      return newChatBody(event.chatId, event.actorId, preview);
    });
    body.then(
      (b) => this.state === 'connected' && this.subscriptions.toQueue('notifications', b),
      () => {},
    );
  }

  // ---- frame handlers (through dispatchFrame, one frame at a time) -----------------------------

  private async connect(frame: StompFrame): Promise<void> {
    const version = this.parser.version ?? negotiateVersion(frame.headers.get('accept-version'));
    if (version === null) {
      this.wire.send(unsupportedVersionFrame(), false);
      this.close(CLOSE_PROTOCOL_ERROR, 'unsupported version');
      return;
    }
    this.version = version;
    const user = await authenticateConnect(this.deps.core, this.deps.log, frame, this.handshakeToken, this.wire.transport);
    if (this.state === 'closed') return;
    this.userId = user.id;
    const hb = negotiateHeartbeat(frame.headers.get('heart-beat'), this.deps.options.heartbeatMs);
    this.state = 'connected';
    this.registered = true;
    await this.deps.registry.add(this);
    if ((this.state as string) === 'closed') {
      void this.deps.registry.remove(this);
      return;
    }
    this.wire.send(encodeFrame('CONNECTED', { version, 'heart-beat': hb.header, server: 'polychat/0.1.0', session: this.id, 'user-name': user.id }), false);
    this.heartBeats.start(
      hb.sendEveryMs,
      hb.expectEveryMs,
      () => this.wire.send('\n', true),
      () => {
        this.deps.log.info({ dialect: 'stomp', userId: this.userId, sessionId: this.id }, 'heart-beat timeout');
        this.close(CLOSE_HEARTBEAT_TIMEOUT, 'heart-beat timeout');
      },
    );
  }

  private async subscribe(frame: StompFrame): Promise<void> {
    const request = this.subscriptions.request(frame, this.version);
    if ('queue' in request.target) {
      this.subscriptions.add(request, 0);
      return;
    }
    const { chatId, large } = await this.access(request.target.rawChatId, request.destination);
    if (this.state === 'connected') this.subscriptions.add(request, chatId, large);
  }

  private async send(frame: StompFrame): Promise<void> {
    const { destination, rawChatId, action } = parseAppDestination(frame);
    const { chatId } = await this.access(rawChatId, destination);
    // A retried sendMessage (same clientMessageId) is published to nobody: this connection alone
    // gets the original MESSAGE again on its chat subscription.
    const history = await runAppDestination(this.deps.core, this.userId, chatId, action, frame.body, (replay) => this.handle(replay));
    if (history) for (const session of this.deps.registry.sessionsOf(this.userId)) if (session instanceof StompConnection) session.deliverHistory(history);
  }

  private receipt(frame: StompFrame): void {
    const receipt = frame.headers.get('receipt');
    if (receipt !== undefined) this.wire.send(encodeFrame('RECEIPT', { 'receipt-id': receipt }, '', this.version), false);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** Membership check for a destination's chat id; an unknown chat is denied like a foreign one. */
  private async access(rawId: string | undefined, destination: string): Promise<{ chatId: number; large: boolean }> {
    try {
      const chatId = parseId(rawId, 'chatId');
      const { large } = await this.deps.core.checkAccess(this.userId, chatId);
      return { chatId, large };
    } catch (err) {
      if (!refusesDestination(err)) throw err;
      this.deps.log.info({ dialect: 'stomp', userId: this.userId, destination }, 'access denied');
      throw accessDenied();
    }
  }

  /** ERROR, then close (STOMP 1.2; Spring does the same). */
  private fail(err: unknown, frame?: StompFrame): void {
    if (this.state === 'closed') return;
    const error = errorFrame(err, frame?.headers.get('receipt'), this.version);
    if (error.unexpected) this.deps.log.error({ err: { message: (err as Error)?.message }, dialect: 'stomp' }, 'stomp frame failed');
    this.wire.send(error.frame, false);
    this.close(CLOSE_PROTOCOL_ERROR, error.message.slice(0, 100));
  }
}
