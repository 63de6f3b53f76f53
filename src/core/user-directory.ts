import { createHash } from 'node:crypto';
import type { SenderProfile } from '../domain/events.js';
import type { ProfilePatch, User } from '../domain/user.js';
import type { Store } from '../ports/store.js';

const MAX_ENTRIES = 50_000;
const TTL_MS = 60_000;

/**
 * Profiles by id, cached: every message event carries its sender's profile, and every
 * authenticated request would otherwise write the token's claims back. Claims are written
 * only when they differ from what we hold.
 */
export class UserDirectory {
  private readonly cache = new Map<string, { user: User; at: number }>();
  /** Hash of the claims last applied per user, so an unchanged token costs no write. */
  private readonly claimsSeen = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async get(id: string): Promise<User | undefined> {
    const hit = this.cache.get(id);
    if (hit && this.now() - hit.at < TTL_MS) return hit.user;
    const user = await this.store.getUser(id);
    if (user) this.remember(user);
    return user;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, User>> {
    const out = new Map<string, User>();
    const missing: string[] = [];
    for (const id of ids) {
      const hit = this.cache.get(id);
      if (hit && this.now() - hit.at < TTL_MS) out.set(id, hit.user);
      else missing.push(id);
    }
    for (const user of await this.store.getUsers(missing)) {
      this.remember(user);
      out.set(user.id, user);
    }
    return out;
  }

  /**
   * Creates the user on first sight; applies a token's claims when the claims changed since
   * they were last applied (so a profile edited through an API keeps its edit).
   */
  async ensure(id: string, claims: ProfilePatch): Promise<User> {
    const hash = claimsHash(claims);
    const known = await this.get(id);
    if (known && this.claimsSeen.get(id) === hash) return known;
    const user = await this.store.applyClaims(id, claims, hash, this.now());
    if (this.claimsSeen.size >= MAX_ENTRIES) this.claimsSeen.clear();
    this.claimsSeen.set(id, hash);
    this.remember(user);
    return user;
  }

  remember(user: User): void {
    if (this.cache.size >= MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.delete(user.id);
    this.cache.set(user.id, { user, at: this.now() });
  }
}

function claimsHash(claims: ProfilePatch): string {
  const keys = Object.keys(claims).sort() as (keyof ProfilePatch)[];
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, claims[k]])))
    .digest('base64url')
    .slice(0, 22);
}

export function senderProfile(user: User): SenderProfile {
  return { id: user.id, username: user.username, name: user.name, firstName: user.firstName, lastName: user.lastName, email: user.email };
}
