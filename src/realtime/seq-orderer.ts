import type { MessageCreated } from '../domain/events.js';

const MAX_CHATS = 100_000;
const MAX_HELD_PER_CHAT = 1000;

/**
 * Hands message events on in per-chat seq order. One instance publishes in seq order already;
 * with several instances writing to one chat, their events can cross on the bus, so an event
 * that skips ahead is held (at most `holdMs`) until the missing ones arrive. Nothing is ever
 * dropped: after the hold, held events go out anyway (a client that saw a gap catches up by
 * seq), and a late event for a chat first seen after it goes out at once.
 */
export class SeqOrderer {
  private readonly last = new Map<number, number>();
  private readonly held = new Map<number, { events: MessageCreated[]; timer: NodeJS.Timeout }>();

  constructor(
    private readonly deliver: (event: MessageCreated) => void,
    private readonly holdMs = 200,
  ) {}

  push(event: MessageCreated): void {
    const chatId = event.chatId;
    const seq = event.message.seq;
    const last = this.last.get(chatId);
    if (last !== undefined && seq > last + 1) {
      this.hold(event);
      return;
    }
    this.emit(event);
    this.release(chatId);
  }

  /**
   * This instance stopped listening to the chat (no local member left): what it knew of the
   * chat's seqs goes stale, and when it listens again the first event must go out at once, not
   * wait for seqs it will never hear. Held events go out now.
   */
  forget(chatId: number): void {
    this.expire(chatId);
    this.last.delete(chatId);
  }

  /** Delivers everything held (shutdown). */
  flush(): void {
    for (const chatId of [...this.held.keys()]) this.expire(chatId);
  }

  private emit(event: MessageCreated): void {
    const chatId = event.chatId;
    const last = this.last.get(chatId);
    // Refresh recency so busy chats stay in the bounded map.
    this.last.delete(chatId);
    this.last.set(chatId, Math.max(last ?? 0, event.message.seq));
    if (this.last.size > MAX_CHATS) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
    this.deliver(event);
  }

  private hold(event: MessageCreated): void {
    let entry = this.held.get(event.chatId);
    if (!entry) {
      const timer = setTimeout(() => this.expire(event.chatId), this.holdMs);
      timer.unref();
      entry = { events: [], timer };
      this.held.set(event.chatId, entry);
    }
    entry.events.push(event);
    if (entry.events.length >= MAX_HELD_PER_CHAT) this.expire(event.chatId);
  }

  /** Emits held events that are next in line. */
  private release(chatId: number): void {
    const entry = this.held.get(chatId);
    if (!entry) return;
    entry.events.sort((a, b) => a.message.seq - b.message.seq);
    while (entry.events.length > 0) {
      const next = entry.events[0]!;
      const last = this.last.get(chatId) ?? 0;
      if (next.message.seq > last + 1) break;
      entry.events.shift();
      this.emit(next);
    }
    if (entry.events.length === 0) {
      clearTimeout(entry.timer);
      this.held.delete(chatId);
    }
  }

  private expire(chatId: number): void {
    const entry = this.held.get(chatId);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.held.delete(chatId);
    for (const event of entry.events.sort((a, b) => a.message.seq - b.message.seq)) this.emit(event);
  }
}
