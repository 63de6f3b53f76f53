import type { ChatType, Role } from '../domain/chat.js';
import type { DomainEvent } from '../domain/events.js';
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

/**
 * Who is in each chat, kept in memory so the send path does no membership query.
 * Entries are dropped on every membership event from the bus (this instance's and the
 * others'), and expire after 30 s in case an invalidation was missed while the bus was down.
 */
export class MembershipCache {
  private readonly entries = new Map<number, { value: ChatMembership; loadedAt: number }>();
  private readonly loading = new Map<number, Promise<ChatMembership | undefined>>();
  private generation = 0;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async get(chatId: number): Promise<ChatMembership | undefined> {
    const hit = this.entries.get(chatId);
    if (hit && this.now() - hit.loadedAt < TTL_MS) return hit.value;
    const pending = this.loading.get(chatId);
    if (pending) return pending;
    const promise = this.load(chatId).finally(() => this.loading.delete(chatId));
    this.loading.set(chatId, promise);
    return promise;
  }

  invalidate(chatId: number): void {
    this.entries.delete(chatId);
    this.loading.delete(chatId);
    this.generation++;
  }

  /** Bus subscriber: membership changed somewhere, forget what we knew. */
  onEvent(event: DomainEvent): void {
    if (event.type === 'members.added' || event.type === 'members.removed' || event.type === 'chat.deleted') this.invalidate(event.chatId);
  }

  private async load(chatId: number): Promise<ChatMembership | undefined> {
    const generation = this.generation;
    const chat = await this.store.getChat(chatId);
    if (!chat) return undefined;
    const members = await this.store.listMembers(chatId);
    const value: ChatMembership = {
      chatId,
      type: chat.type,
      roles: new Map(members.map((m) => [m.userId, m.role])),
      memberIds: members.map((m) => m.userId),
    };
    // A change that landed while we were reading makes this copy stale: use it once, keep it not.
    if (generation === this.generation) {
      if (this.entries.size >= MAX_ENTRIES) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(chatId, { value, loadedAt: this.now() });
    }
    return value;
  }
}
