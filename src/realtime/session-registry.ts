import { randomUUID } from 'node:crypto';
import type { ChatCore } from '../core/chat-core.js';
import { refusesChat } from '../domain/errors.js';
import type { DomainEvent, MessageCreated, SessionClaimed } from '../domain/events.js';
import { chatTopic, userTopic, type Broker, type Topic } from '../ports/broker.js';
import type { Logger } from '../ports/logger.js';
import { SeqOrderer } from './seq-orderer.js';
import type { DialectName, LostAccessReason, Session } from './session.js';

export interface RealtimeMetrics {
  observeFanout(seconds: number): void;
  /** A `message.created` reached this instance for its sessions. */
  messageRouted?(): void;
}

/** One user with live sessions here. */
interface LocalUser {
  readonly sessions: Set<Session>;
  /** The user's chats, as of the last membership event heard (the index is built from these). */
  readonly chats: Set<number>;
  /** Settles once the user's topic and chat topics are live and the chat list is loaded. */
  ready: Promise<void>;
  /** Membership changes heard while the chat list loads, applied after it; null once loaded. */
  pending: { chatId: number; joined: boolean }[] | null;
  /** Connections being opened (see `reserve`): the user's interest stays while any is held. */
  reservations: number;
}

const USER_PREFIX = 'user:';

/**
 * This instance's live sessions, by user, and the chat → local users index that routes bus
 * events to them, whatever their dialect.
 *
 * Interest: when a user's first local session opens, the registry subscribes `user:<id>`, loads
 * the user's chat ids (one query) and subscribes each `chat:<id>`; the last session leaving
 * drops them (a chat topic stays while any local user is in the chat). Events carry no member
 * lists: a chat's events go to the local sessions of the users the index has in that chat,
 * which is the membership as of the events heard, in order. Membership changes arrive on the
 * chat's topic and on each affected user's topic; whichever copy comes first updates the index
 * (subscribing or unsubscribing the chat), so each session sees each event once. Presence comes
 * on the user's own topic and on each of its chats' topics; a session gets it through the first
 * of those chats its user is in.
 */
export class SessionRegistry {
  private readonly users = new Map<string, LocalUser>();
  /** chat → local users in it. */
  private readonly chats = new Map<number, Set<string>>();
  /** This registry's subscriptions, by topic (one each: the index does the counting). */
  private readonly topics = new Map<Topic, Promise<() => void>>();
  private readonly counts = new Map<DialectName, number>();
  private readonly orderer = new SeqOrderer((event) => this.route(event));
  private readonly onEvent = (event: DomainEvent, topic: Topic): void => this.dispatch(event, topic);
  /** Sessions holding an exclusive slot (see `claimExclusive`), by session id. */
  private readonly claims = new Map<string, { session: Session; key: string; at: number; onReplaced: (by: string) => void }>();
  /** Strictly increasing on this instance, so a newer local claim always beats an older one. */
  private lastClaimAt = 0;
  private stopped = false;

  constructor(
    private readonly core: ChatCore,
    private readonly broker: Broker,
    private readonly log: Logger,
    private readonly metrics: RealtimeMetrics | null = null,
    /** Live connections one user may hold on this instance; more are closed with 1008. */
    private readonly maxConnectionsPerUser = Number.POSITIVE_INFINITY,
  ) {}

  /** Nothing is subscribed up front: interest follows the sessions. */
  start(): void {
    this.stopped = false;
  }

  newSessionId(): string {
    return randomUUID();
  }

  /**
   * Adds a session and counts it for presence (any dialect makes a user online). A user over
   * the per-user connection limit has the new session closed (1008) and not added. Resolves
   * once the user's topics are live: events from then on reach the session.
   */
  async add(session: Session): Promise<boolean> {
    let user = this.users.get(session.userId);
    if ((user?.sessions.size ?? 0) >= this.maxConnectionsPerUser) {
      this.log.warn({ dialect: session.dialect, userId: session.userId }, 'connection refused: too many connections for this user');
      session.close(1008, 'too many connections');
      return false;
    }
    if (!user) user = this.openUser(session.userId);
    user.sessions.add(session);
    this.counts.set(session.dialect, (this.counts.get(session.dialect) ?? 0) + 1);
    // Inserted first (events from now on reach it), admitted second: the limiter may be remote.
    let admitted = true;
    try {
      admitted = await this.core.admitConnection(session.userId);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'connection rate limiter failed; admitting');
    }
    if (!admitted) {
      this.forget(session);
      this.log.warn({ dialect: session.dialect, userId: session.userId }, 'connection refused: connection rate limit exceeded');
      session.close(1008, 'too many connection attempts');
      return false;
    }
    try {
      await user.ready;
    } catch (err) {
      this.forget(session);
      this.log.warn({ err: (err as Error).message, dialect: session.dialect, userId: session.userId }, 'connection refused: could not load the user\'s chats');
      session.close(1013, 'try again later');
      return false;
    }
    this.log.info({ dialect: session.dialect, userId: session.userId, sessionId: session.id }, 'connection opened');
    if (session.chatId !== undefined) await this.recheckAccess(session, session.chatId);
    try {
      await this.core.connectionOpened(session.userId, session.id);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'presence update failed');
    }
    return true;
  }

  /**
   * Opens the user's interest before a connection is usable: a dialect calls it before it
   * answers the WebSocket handshake (or sends its "connected" frame), so the first events after
   * the client sees the connection open already reach it. Resolves once the user's topics are
   * live; call the returned function once `add` has been called (or the connection failed).
   */
  async reserve(userId: string): Promise<() => void> {
    const user = this.users.get(userId) ?? this.openUser(userId);
    user.reservations++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      user.reservations--;
      if (user.reservations === 0 && user.sessions.size === 0 && this.users.get(userId) === user) this.closeUser(userId, user);
    };
    await user.ready.catch(() => {}); // `add` reports a failed load
    return release;
  }

  async remove(session: Session): Promise<void> {
    this.claims.delete(session.id);
    if (!this.forget(session)) return;
    this.log.info({ dialect: session.dialect, userId: session.userId, sessionId: session.id }, 'connection closed');
    try {
      await this.core.connectionClosed(session.userId, session.id);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'presence update failed');
    }
  }

  /** Whether the index has the user in the chat (a user with sessions here). */
  hasChat(userId: string, chatId: number): boolean {
    return this.users.get(userId)?.chats.has(chatId) ?? false;
  }

  private forget(session: Session): boolean {
    const user = this.users.get(session.userId);
    if (!user?.sessions.delete(session)) return false;
    this.counts.set(session.dialect, (this.counts.get(session.dialect) ?? 1) - 1);
    if (user.sessions.size === 0 && user.reservations === 0) this.closeUser(session.userId, user);
    return true;
  }

  /** The user's first session here: listen to its topic, then load and listen to its chats. */
  private openUser(userId: string): LocalUser {
    const user: LocalUser = { sessions: new Set(), chats: new Set(), ready: Promise.resolve(), pending: [], reservations: 0 };
    this.users.set(userId, user);
    user.ready = this.loadUser(userId, user);
    // Awaited by add(); a failure is reported there.
    user.ready.catch(() => {});
    return user;
  }

  private async loadUser(userId: string, user: LocalUser): Promise<void> {
    // Live before the query: a change committed after it is heard, one before it is in it.
    await this.listen(userTopic(userId));
    let chatIds: number[];
    try {
      chatIds = await this.core.chatIdsOf(userId);
    } catch (err) {
      if (this.users.get(userId) === user) user.pending = null;
      throw err;
    }
    if (this.users.get(userId) !== user) return; // every session left meanwhile
    const pending = user.pending ?? [];
    user.pending = null;
    for (const chatId of chatIds) this.join(userId, user, chatId);
    for (const change of pending) {
      if (change.joined) this.join(userId, user, change.chatId);
      else this.leave(userId, user, change.chatId);
    }
    await Promise.all([...user.chats].map((chatId) => this.topics.get(chatTopic(chatId))));
  }

  private closeUser(userId: string, user: LocalUser): void {
    this.users.delete(userId);
    for (const chatId of [...user.chats]) this.leave(userId, user, chatId);
    user.pending = null;
    this.unlisten(userTopic(userId));
  }

  /** Puts the user in the chat's index (its first local member subscribes the chat's topic). */
  private join(userId: string, user: LocalUser, chatId: number): void {
    if (user.pending) {
      user.pending.push({ chatId, joined: true });
      return;
    }
    if (user.chats.has(chatId)) return;
    user.chats.add(chatId);
    let members = this.chats.get(chatId);
    if (!members) {
      this.chats.set(chatId, (members = new Set()));
      void this.listen(chatTopic(chatId));
    }
    members.add(userId);
  }

  private leave(userId: string, user: LocalUser, chatId: number): void {
    if (user.pending) {
      user.pending.push({ chatId, joined: false });
      return;
    }
    if (!user.chats.delete(chatId)) return;
    const members = this.chats.get(chatId);
    if (!members) return;
    members.delete(userId);
    if (members.size > 0) return;
    this.chats.delete(chatId);
    this.orderer.forget(chatId);
    this.unlisten(chatTopic(chatId));
  }

  /** Whether a membership change of this user in this chat still has to be applied here. */
  private pendingChange(user: LocalUser, chatId: number, joined: boolean): boolean {
    if (user.pending) return !user.pending.some((c) => c.chatId === chatId && c.joined === joined);
    return user.chats.has(chatId) !== joined;
  }

  private listen(topic: Topic): Promise<void> {
    let subscribed = this.topics.get(topic);
    if (!subscribed) {
      subscribed = this.broker.subscribe(topic, this.onEvent).catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message, topic }, 'bus subscribe failed');
        return () => {};
      });
      this.topics.set(topic, subscribed);
    }
    return subscribed.then(() => undefined);
  }

  private unlisten(topic: Topic): void {
    const subscribed = this.topics.get(topic);
    if (!subscribed) return;
    this.topics.delete(topic);
    void subscribed.then((off) => off());
  }

  /**
   * A per-chat session was admitted by an access check before it was registered; a removal
   * that committed in between found no session to tell. Now that the user's topics are live,
   * ask again: from here on, a removal arrives as an event.
   */
  private async recheckAccess(session: Session, chatId: number): Promise<void> {
    try {
      await this.core.checkAccess(session.userId, chatId);
    } catch (err) {
      if (refusesChat(err)) this.tellLost(session, chatId, 'removed');
    }
  }

  /**
   * One live connection per (user, dialect, `key`) across every instance: the newest wins.
   * The user's older local sessions holding the same slot get `onReplaced` at once; the claim
   * also goes out on the bus, so older ones on other instances get theirs when it arrives
   * (at-most-once: during a Redis outage only this instance's are replaced). Of two claims the
   * later `at` wins, ties by the greater session id, so two instances claiming at once keep
   * exactly one. `onReplaced(bySessionId)` should close the session (which calls `remove`).
   */
  claimExclusive(session: Session, key: string, onReplaced: (by: string) => void): void {
    const claim: SessionClaimed = {
      type: 'session.claimed',
      userId: session.userId,
      dialect: session.dialect,
      key,
      sessionId: session.id,
      at: (this.lastClaimAt = Math.max(Date.now(), this.lastClaimAt + 1)),
    };
    this.replaceOlder(claim);
    this.claims.set(session.id, { session, key, at: claim.at, onReplaced });
    this.broker.publish(userTopic(session.userId), claim);
  }

  sessionsOf(userId: string): ReadonlySet<Session> {
    return this.users.get(userId)?.sessions ?? new Set();
  }

  /** Topics this registry listens to (tests). */
  get topicCount(): number {
    return this.topics.size;
  }

  connectionCounts(): ReadonlyMap<DialectName, number> {
    return this.counts;
  }

  get size(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** Closes every session (shutdown: 1001 "going away" on WebSockets). */
  closeAll(code: number, reason: string): void {
    for (const user of [...this.users.values()]) for (const s of [...user.sessions]) s.close(code, reason);
  }

  stop(): void {
    this.stopped = true;
    for (const topic of [...this.topics.keys()]) this.unlisten(topic);
    this.orderer.flush();
  }

  dispatch(event: DomainEvent, topic: Topic): void {
    if (this.stopped) return;
    switch (event.type) {
      case 'session.claimed':
        this.replaceOlder(event);
        return;
      case 'message.created':
        this.orderer.push(event);
        return;
      case 'chat.created': {
        const userId = userOf(topic);
        const user = userId === null ? undefined : this.users.get(userId);
        if (userId === null || !user) return;
        this.join(userId, user, event.chatId);
        this.deliver(userId, event);
        return;
      }
      case 'members.added':
        if (userOf(topic) === null) this.deliverToChat(event.chatId, event, event.userIds);
        for (const userId of this.affected(topic, event.userIds)) {
          const user = this.users.get(userId);
          if (!user || !this.pendingChange(user, event.chatId, true)) continue;
          this.join(userId, user, event.chatId);
          this.deliver(userId, event);
        }
        return;
      case 'members.removed':
        if (userOf(topic) === null) this.deliverToChat(event.chatId, event, event.userIds);
        for (const userId of this.affected(topic, event.userIds)) {
          const user = this.users.get(userId);
          if (!user || !this.pendingChange(user, event.chatId, false)) continue;
          this.deliver(userId, event);
          for (const session of [...user.sessions]) this.tellLost(session, event.chatId, 'removed');
          this.leave(userId, user, event.chatId);
        }
        return;
      case 'chat.deleted': {
        const members = [...(this.chats.get(event.chatId) ?? [])];
        this.deliverToChat(event.chatId, event);
        for (const userId of members) {
          const user = this.users.get(userId);
          if (!user) continue;
          for (const session of [...user.sessions]) this.tellLost(session, event.chatId, 'deleted');
          this.leave(userId, user, event.chatId);
        }
        return;
      }
      case 'presence': {
        if (topic === userTopic(event.userId)) {
          this.deliver(event.userId, event);
          return;
        }
        // One copy per chat of the user: each contact takes it from the first chat it shares.
        const members = this.chats.get(chatOf(topic) ?? Number.NaN);
        if (!members) return;
        for (const userId of members) {
          if (userId === event.userId) continue;
          const chats = this.users.get(userId)?.chats;
          if (chats && chatOf(topic) === event.chatIds.find((id) => chats.has(id))) this.deliver(userId, event);
        }
        return;
      }
      default:
        this.deliverToChat(event.chatId, event);
    }
  }

  /** The users of a membership change this copy speaks for: its user, or all (the chat's copy). */
  private affected(topic: Topic, userIds: readonly string[]): readonly string[] {
    const userId = userOf(topic);
    if (userId === null) return userIds;
    return userIds.includes(userId) ? [userId] : [];
  }

  private tellLost(session: Session, chatId: number, reason: LostAccessReason): void {
    try {
      session.lostAccess(chatId, reason);
    } catch (err) {
      this.log.error({ err: (err as Error).message, dialect: session.dialect }, 'session failed to handle lost access');
    }
  }

  private replaceOlder(claim: SessionClaimed): void {
    for (const session of this.users.get(claim.userId)?.sessions ?? []) {
      const held = this.claims.get(session.id);
      if (!held || session.id === claim.sessionId || session.dialect !== claim.dialect || held.key !== claim.key) continue;
      if (held.at > claim.at || (held.at === claim.at && session.id > claim.sessionId)) continue;
      this.claims.delete(session.id);
      try {
        held.onReplaced(claim.sessionId);
      } catch (err) {
        this.log.error({ err: (err as Error).message, dialect: session.dialect }, 'session failed to close on replacement');
      }
    }
  }

  /** Every local member of the chat but `except` (whose own copy of the event serves them). */
  private deliverToChat(chatId: number, event: DomainEvent, except: readonly string[] = []): void {
    const members = this.chats.get(chatId);
    if (!members) return;
    for (const userId of members) if (!except.includes(userId)) this.deliver(userId, event);
  }

  /** Hands the event to each of the user's sessions; returns whether one pushed a message. */
  private deliver(userId: string, event: DomainEvent): boolean {
    const sessions = this.users.get(userId)?.sessions;
    if (!sessions) return false;
    let delivered = false;
    for (const session of sessions) {
      try {
        if (session.handle(event)) delivered = true;
      } catch (err) {
        this.log.error({ err: (err as Error).message, dialect: session.dialect }, 'session failed to handle an event');
      }
    }
    return delivered;
  }

  private route(event: MessageCreated): void {
    const members = this.chats.get(event.chatId);
    if (members) for (const userId of members) if (this.deliver(userId, event)) this.core.noteDelivered(userId, event.message);
    if (this.metrics) {
      this.metrics.messageRouted?.();
      this.metrics.observeFanout((Date.now() - event.committedAt) / 1000);
    }
  }
}

function userOf(topic: Topic): string | null {
  return topic.startsWith(USER_PREFIX) ? topic.slice(USER_PREFIX.length) : null;
}

function chatOf(topic: Topic): number | null {
  return topic.startsWith('chat:') ? Number(topic.slice(5)) : null;
}
