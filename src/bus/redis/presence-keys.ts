/**
 * Presence groups on a cluster (see `PresenceKeys`): enough to spread over a few masters, few
 * enough that a sweep (one script per group) stays cheap. Every instance must agree on it.
 */
export const CLUSTER_PRESENCE_SHARDS = 16;

/** The keys one presence script run touches for a group of users: they always share a slot. */
export interface PresenceShard {
  /** ZSET userId -> latest lease expiry (ms). */
  readonly online: string;
  /** HASH userId -> ms. */
  readonly lastSeen: string;
  /** `conns` key of a user = this + userId (ZSET `<instanceId>:<connectionId>` -> expiry). */
  readonly connsPrefix: string;
}

/**
 * Where presence lives. On one Redis, one shard with the plain names of `docs/redis.md`
 * (`P presence:online`, …). On Redis Cluster a Lua script may only touch keys of one slot, and
 * every presence script touches a user's `conns` key together with the `online` set and the
 * `last_seen` hash: so presence is split into `shards` groups, each under its own hash tag
 * (`P presence:{s<k>}:online`, `…:last_seen`, `…:conns:<userId>`), a user always in the group
 * `fnv1a(userId) % shards`. The groups hash to different slots, so presence spreads over the
 * cluster's masters; the sweep and `isOnline` visit each group. Every instance must use the
 * same shard count (it is a constant, not a setting, for that reason).
 */
export class PresenceKeys {
  readonly shards: readonly PresenceShard[];

  constructor(prefix: string, shards: number | null) {
    const p = `${prefix}presence:`;
    if (shards === null) {
      this.shards = [{ online: `${p}online`, lastSeen: `${p}last_seen`, connsPrefix: `${p}conns:` }];
      return;
    }
    const out: PresenceShard[] = [];
    for (let k = 0; k < shards; k++) {
      const tag = `${p}{s${k}}:`;
      out.push({ online: `${tag}online`, lastSeen: `${tag}last_seen`, connsPrefix: `${tag}conns:` });
    }
    this.shards = out;
  }

  shardOf(userId: string): PresenceShard {
    const shards = this.shards;
    return (shards.length === 1 ? shards[0] : shards[fnv1a(userId) % shards.length]) as PresenceShard;
  }

  conns(userId: string): string {
    return `${this.shardOf(userId).connsPrefix}${userId}`;
  }

  /** Groups users by shard (each group goes to one slot: one script call or one pipeline). */
  group<T>(items: Iterable<T>, userOf: (item: T) => string): Map<PresenceShard, T[]> {
    const groups = new Map<PresenceShard, T[]>();
    for (const item of items) {
      const shard = this.shardOf(userOf(item));
      let list = groups.get(shard);
      if (!list) groups.set(shard, (list = []));
      list.push(item);
    }
    return groups;
  }
}

/** 32-bit FNV-1a over the UTF-16 code units: stable across processes and versions. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
