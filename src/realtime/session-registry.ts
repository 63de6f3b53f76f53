import { randomUUID } from 'node:crypto';
import type { ChatCore } from '../core/chat-core.js';
import type { DomainEvent, SessionClaimed } from '../domain/events.js';
import type { Broker } from '../ports/broker.js';
import type { Logger } from '../ports/logger.js';
import { SeqOrderer } from './seq-orderer.js';
import type { DialectName, Session } from './session.js';

export interface RealtimeMetrics {
  observeFanout(seconds: number): void;
}

/**
 * This instance's live sessions, by user. Bus events are routed by the `memberIds` they
 * carry: each addressed user's local sessions get the event, whatever their dialect. The same
 * path serves the memory bus and Redis.
 */
export class SessionRegistry {
  private readonly byUser = new Map<string, Set<Session>>();
  private readonly counts = new Map<DialectName, number>();
  private unsubscribe: (() => void) | null = null;
  private readonly orderer = new SeqOrderer((event) => this.route(event));
  /** Sessions holding an exclusive slot (see `claimExclusive`), by session id. */
  private readonly claims = new Map<string, { session: Session; key: string; at: number; onReplaced: (by: string) => void }>();
  /** Strictly increasing on this instance, so a newer local claim always beats an older one. */
  private lastClaimAt = 0;

  constructor(
    private readonly core: ChatCore,
    private readonly broker: Broker,
    private readonly log: Logger,
    private readonly metrics: RealtimeMetrics | null = null,
    /** Live connections one user may hold on this instance; more are closed with 1008. */
    private readonly maxConnectionsPerUser = Number.POSITIVE_INFINITY,
  ) {}

  start(): void {
    this.unsubscribe = this.broker.subscribe((event) => this.dispatch(event));
  }

  newSessionId(): string {
    return randomUUID();
  }

  /**
   * Adds a session and counts it for presence (any dialect makes a user online). A user over
   * the per-user connection limit has the new session closed (1008) and not added.
   */
  async add(session: Session): Promise<boolean> {
    let set = this.byUser.get(session.userId);
    if ((set?.size ?? 0) >= this.maxConnectionsPerUser) {
      this.log.warn({ dialect: session.dialect, userId: session.userId }, 'connection refused: too many connections for this user');
      session.close(1008, 'too many connections');
      return false;
    }
    if (!set) this.byUser.set(session.userId, (set = new Set()));
    set.add(session);
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
    this.log.info({ dialect: session.dialect, userId: session.userId, sessionId: session.id }, 'connection opened');
    try {
      await this.core.connectionOpened(session.userId, session.id);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'presence update failed');
    }
    return true;
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

  private forget(session: Session): boolean {
    const set = this.byUser.get(session.userId);
    if (!set?.delete(session)) return false;
    if (set.size === 0) this.byUser.delete(session.userId);
    this.counts.set(session.dialect, (this.counts.get(session.dialect) ?? 1) - 1);
    return true;
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
      memberIds: [session.userId],
      dialect: session.dialect,
      key,
      sessionId: session.id,
      at: (this.lastClaimAt = Math.max(Date.now(), this.lastClaimAt + 1)),
    };
    this.replaceOlder(claim);
    this.claims.set(session.id, { session, key, at: claim.at, onReplaced });
    this.broker.publish(claim);
  }

  sessionsOf(userId: string): ReadonlySet<Session> {
    return this.byUser.get(userId) ?? new Set();
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
    for (const set of [...this.byUser.values()]) for (const s of [...set]) s.close(code, reason);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.orderer.flush();
  }

  dispatch(event: DomainEvent): void {
    if (event.type === 'session.claimed') {
      this.replaceOlder(event);
      return;
    }
    this.core.onEvent(event);
    if (event.type === 'message.created') this.orderer.push(event);
    else this.route(event);
  }

  private replaceOlder(claim: SessionClaimed): void {
    for (const session of this.byUser.get(claim.userId) ?? []) {
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

  private route(event: DomainEvent): void {
    const targets = event.type === 'members.removed' ? [...event.memberIds, ...event.userIds] : event.memberIds;
    const message = event.type === 'message.created' ? event.message : null;
    for (const userId of targets) {
      const sessions = this.byUser.get(userId);
      if (!sessions) continue;
      let delivered = false;
      for (const session of sessions) {
        try {
          if (session.handle(event)) delivered = true;
        } catch (err) {
          this.log.error({ err: (err as Error).message, dialect: session.dialect }, 'session failed to handle an event');
        }
      }
      if (delivered && message) this.core.noteDelivered(userId, message);
    }
    if (event.type === 'message.created' && this.metrics) this.metrics.observeFanout((Date.now() - event.committedAt) / 1000);
  }
}
