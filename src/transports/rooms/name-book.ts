import { displayName, type User } from '../../domain/user.js';

const MAX_ENTRIES = 20_000;

/**
 * Display names of users this instance has seen (senders, chat members), so that a typing
 * event, which carries only a username, is rendered with the same `author.name` as a message.
 * A miss falls back to the username, then the id. Bounded: the oldest entry goes first.
 */
export class NameBook {
  private readonly names = new Map<string, string>();

  get(id: string): string | undefined {
    return this.names.get(id);
  }

  learn(id: string, name: string): void {
    if (this.names.get(id) === name) return;
    this.names.delete(id);
    if (this.names.size >= MAX_ENTRIES) {
      const oldest = this.names.keys().next().value;
      if (oldest !== undefined) this.names.delete(oldest);
    }
    this.names.set(id, name);
  }

  learnUsers(users: Iterable<User>): void {
    for (const user of users) this.learn(user.id, displayName(user));
  }
}
