import type { ChatType, Role } from '../domain/chat.js';
import type { DomainEvent } from '../domain/events.js';
import { chatTopic, type Broker } from '../ports/broker.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';

export interface ChatMembership {
  readonly chatId: number;
  readonly type: ChatType;
  readonly roles: ReadonlyMap<string, Role>;
  /** The same ids as `roles`, as an array that events can carry without copying. */
  readonly memberIds: readonly string[];
}

const MAX_ENTRIES = 20_000;
const TTL_MS = 30_000;

interface Entry {
  readonly value: ChatMembership;
  readonly loadedAt: number;
  /** Ends this cache's interest in the chat's topic. */
  readonly off: () => void;
}

/**
 * Who is in each chat, kept in memory so the send path does no membership query.
 *
 * An entry exists only while this cache is subscribed to the chat's topic: events reach an
 * instance only on topics it subscribed to, and an instance may send for a chat none of its
 * sessions is in (a REST send, another dialect's socket), so the cache takes its own interest.
 * A load subscribes first and reads the store once the subscription is live, so a change
 * committed after the read is always heard; every `members.*`/`chat.deleted` event on the topic
 * (this instance's and the others') drops the entry and its interest. Entries also expire after
 * 30 s in case an invalidation was missed while the bus was down (at-most-once), and the oldest
 * go first beyond 20 000 (so is their interest).
 */
export class MembershipCache {
  private readonly entries = new Map<number, Entry>();
  private readonly loading = new Map<number, Promise<ChatMembership | undefined>>();
  private generation = 0;
  private readonly onChatEvent = (event: DomainEvent): void => this.onEvent(event);

  constructor(
    private readonly store: Store,
    private readonly broker: Broker,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  async get(chatId: number): Promise<ChatMembership | undefined> {
    this.expireOldest();
    const hit = this.entries.get(chatId);
    if (hit && this.now() - hit.loadedAt < TTL_MS) return hit.value;
    if (hit) this.drop(chatId);
    const pending = this.loading.get(chatId);
    if (pending) return pending;
    const promise = this.load(chatId).finally(() => this.loading.delete(chatId));
    this.loading.set(chatId, promise);
    return promise;
  }

  invalidate(chatId: number): void {
    this.drop(chatId);
    this.loading.delete(chatId);
    this.generation++;
  }

  /** Chats cached right now (each with its topic subscribed); tests. */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets everything and every interest (shutdown). */
  clear(): void {
    for (const chatId of [...this.entries.keys()]) this.drop(chatId);
  }

  /** Membership changed somewhere: forget what we knew. */
  private onEvent(event: DomainEvent): void {
    if (event.type === 'members.added' || event.type === 'members.removed' || event.type === 'chat.deleted') this.invalidate(event.chatId);
  }

  private drop(chatId: number): void {
    const entry = this.entries.get(chatId);
    if (!entry) return;
    this.entries.delete(chatId);
    entry.off();
  }

  /** Entries are kept in load order: the expired ones are at the front (and lose their interest). */
  private expireOldest(): void {
    const now = this.now();
    for (const [chatId, entry] of this.entries) {
      if (now - entry.loadedAt < TTL_MS) return;
      this.drop(chatId);
    }
  }

  private async load(chatId: number): Promise<ChatMembership | undefined> {
    const generation = this.generation;
    let off: () => void = () => {};
    try {
      off = await this.broker.subscribe(chatTopic(chatId), this.onChatEvent);
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message }, chatId }, 'membership cache could not subscribe; reading uncached');
    }
    let value: ChatMembership | undefined;
    try {
      const chat = await this.store.getChat(chatId);
      if (chat) {
        const members = await this.store.listMembers(chatId);
        value = {
          chatId,
          type: chat.type,
          roles: new Map(members.map((m) => [m.userId, m.role])),
          memberIds: members.map((m) => m.userId),
        };
      }
    } catch (err) {
      off();
      throw err;
    }
    // A change that landed while we were reading makes this copy stale: use it once, keep it not.
    if (!value || generation !== this.generation || this.entries.has(chatId)) {
      off();
      return value;
    }
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.drop(oldest);
    }
    this.entries.set(chatId, { value, loadedAt: this.now(), off });
    return value;
  }
}
