import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import type { ExpiredHandler, PresenceStore } from '../../ports/presence-store.js';
import { silentLogger, type Logger } from '../../ports/logger.js';
import { PresenceKeys } from './presence-keys.js';
import { presenceScripts } from './presence-scripts.js';

export interface RedisPresenceOptions {
  readonly prefix: string;
  /** This server process; connection leases are `<instanceId>:<connectionId>`. */
  readonly instanceId: string;
  /** How long a lease lives without renewal. Default 25 s. */
  readonly leaseMs?: number;
  /** How often this instance renews its connections' leases. Default 10 s. */
  readonly renewMs?: number;
  /** How often this instance looks for users whose leases all expired. Default 5 s. */
  readonly sweepMs?: number;
  readonly log?: Logger;
  /**
   * Redis Cluster: split presence into this many hash-tagged groups (see `PresenceKeys`);
   * absent on one Redis (the plain key names).
   */
  readonly shards?: number;
}

type Reply = string | number | null | Reply[];
type ScriptCall = (...args: (string | number)[]) => Promise<Reply>;
type PipelineCall = (...args: (string | number)[]) => ChainableCommander;

const RENEW_BATCH = 500;
const SWEEP_BATCH = 200;
const commandNames = {
  connect: 'polychatPresenceConnect',
  disconnect: 'polychatPresenceDisconnect',
  renew: 'polychatPresenceRenew',
  sweep: 'polychatPresenceSweep',
  online: 'polychatPresenceOnline',
} as const;
const keyCounts = { connect: 2, disconnect: 3, renew: 2, sweep: 2, online: 1 } as const;

/**
 * Presence shared by every instance on one Redis: a user is online while any instance holds a
 * live connection lease for it. Connect/disconnect/expiry are Lua scripts, so "became online",
 * "became offline" and "expired" are each reported by exactly one instance.
 *
 * Each instance renews its own connections' leases every `renewMs` (pipelined, one script per
 * user) and sweeps every `sweepMs`: users whose leases have all expired (their instance crashed
 * or was killed) are removed and reported to the `onExpired` handlers of whichever instance
 * swept them first. Worst case from a crash to the report: lease + renew interval gap + sweep
 * = 25 - 0 + 5 = 30 s with the defaults (the crash can come right after a renewal, whose lease
 * then still runs 25 s, and the sweep may come up to 5 s later).
 *
 * `close()` is a graceful shutdown: timers stop and this instance's remaining leases are
 * released; users who thereby go offline are reported to the `onExpired` handlers (their
 * connections are closing with the process, so everyone must hear they left).
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly local = new Map<string, Set<string>>();
  private readonly handlers = new Set<ExpiredHandler>();
  private readonly log: Logger;
  private readonly leaseMs: number;
  private readonly keys: PresenceKeys;
  private readonly timers: NodeJS.Timeout[] = [];
  private renewing: Promise<void> | null = null;
  private sweeping: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly options: RedisPresenceOptions,
  ) {
    this.log = options.log ?? silentLogger;
    this.leaseMs = options.leaseMs ?? 25_000;
    this.keys = new PresenceKeys(options.prefix, options.shards ?? null);
    for (const [name, lua] of Object.entries(presenceScripts)) {
      const command = commandNames[name as keyof typeof commandNames];
      redis.defineCommand(command, { numberOfKeys: keyCounts[name as keyof typeof keyCounts], lua });
    }
    this.timers.push(setInterval(() => void this.renewNow(), options.renewMs ?? 10_000).unref());
    this.timers.push(setInterval(() => void this.sweepNow(), options.sweepMs ?? 5_000).unref());
  }

  onExpired(handler: ExpiredHandler): void {
    this.handlers.add(handler);
  }

  /** `now` is not used: lease times come from Redis's clock. */
  async connect(userId: string, connectionId: string, _now?: number): Promise<{ becameOnline: boolean }> {
    // Tracked locally first: if Redis is down now, the next renewal still registers the lease.
    let set = this.local.get(userId);
    if (!set) this.local.set(userId, (set = new Set()));
    set.add(connectionId);
    const shard = this.keys.shardOf(userId);
    const became = await this.call('connect')(this.keys.conns(userId), shard.online, this.member(connectionId), this.leaseMs, userId);
    return { becameOnline: became === 1 };
  }

  async disconnect(userId: string, connectionId: string, now: number): Promise<{ becameOffline: boolean; lastSeen: number }> {
    const set = this.local.get(userId);
    if (set?.delete(connectionId) && set.size === 0) this.local.delete(userId);
    const shard = this.keys.shardOf(userId);
    const reply = (await this.call('disconnect')(this.keys.conns(userId), shard.online, shard.lastSeen, this.member(connectionId), userId, now)) as Reply[];
    return { becameOffline: reply[0] === 1, lastSeen: Number(reply[1]) };
  }

  async isOnline(userIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    // One script per shard and chunk; on a cluster the shards' calls run on their nodes at once.
    const calls: Promise<void>[] = [];
    for (const [shard, ids] of this.keys.group(userIds, (id) => id)) {
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        calls.push(
          (this.call('online')(shard.online, ...chunk) as Promise<string[]>).then((reply) => {
            for (const id of reply) out.add(id);
          }),
        );
      }
    }
    await Promise.all(calls);
    return out;
  }

  async lastSeen(userId: string): Promise<number | null> {
    const value = await this.redis.hget(this.keys.shardOf(userId).lastSeen, userId);
    return value === null ? null : Number(value);
  }

  /** Renews every local lease now (the timer calls this; tests may too). */
  renewNow(): Promise<void> {
    this.renewing ??= this.renew().finally(() => (this.renewing = null));
    return this.renewing;
  }

  /** Sweeps expired users now (the timer calls this; tests may too). */
  sweepNow(): Promise<void> {
    this.sweeping ??= this.sweep().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  /**
   * Stops renewing and sweeping without touching Redis, as a crash would: this instance's
   * leases are left to expire. For tests and for an instance that lost its own process state.
   */
  abandon(): void {
    this.stopTimers();
    this.local.clear();
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopTimers();
    await this.renewing;
    await this.sweeping;
    const entries = [...this.local].flatMap(([userId, set]) => [...set].map((connectionId) => [userId, connectionId] as const));
    this.local.clear();
    if (entries.length === 0 || this.redis.status !== 'ready') return;
    const now = Date.now();
    // One pipeline per shard: on a cluster a pipeline must stay within one slot.
    for (const [shard, group] of this.keys.group(entries, ([userId]) => userId)) {
      try {
        const pipeline = this.redis.pipeline();
        for (const [userId, connectionId] of group) {
          this.pipe(pipeline, 'disconnect')(this.keys.conns(userId), shard.online, shard.lastSeen, this.member(connectionId), userId, now);
        }
        const results = (await pipeline.exec()) ?? [];
        for (let i = 0; i < results.length; i++) {
          const [err, reply] = results[i] ?? [null, null];
          const entry = group[i];
          if (err || !entry || !Array.isArray(reply) || reply[0] !== 1) continue;
          await this.report(entry[0], Number(reply[1]));
        }
      } catch (err) {
        this.log.warn({ err: { message: (err as Error).message } }, 'could not release presence leases at shutdown; they will expire');
      }
    }
  }

  private async renew(): Promise<void> {
    if (this.stopped || this.local.size === 0 || this.redis.status !== 'ready') return;
    let revived = 0;
    let failed = 0;
    let lastError = '';
    // Batches within one shard: on a cluster a pipeline must stay within one slot.
    const batches: [string, Set<string>][][] = [];
    for (const group of this.keys.group(this.local, ([userId]) => userId).values()) {
      for (let i = 0; i < group.length; i += RENEW_BATCH) batches.push(group.slice(i, i + RENEW_BATCH));
    }
    for (const batch of batches) {
      const pipeline = this.redis.pipeline();
      for (const [userId, set] of batch) {
        if (set.size === 0) continue;
        this.pipe(pipeline, 'renew')(this.keys.conns(userId), this.keys.shardOf(userId).online, userId, this.leaseMs, ...[...set].map((c) => this.member(c)));
      }
      try {
        const results = (await pipeline.exec()) ?? [];
        for (const [err, reply] of results) {
          if (err) {
            failed++;
            lastError = err.message;
          } else if (reply === 1) revived++;
        }
      } catch (err) {
        this.log.warn({ err: { message: (err as Error).message } }, 'presence lease renewal failed');
        return;
      }
    }
    if (failed > 0) this.log.warn({ users: failed, err: { message: lastError } }, 'presence lease renewal failed');
    // A user swept while its connection was alive (a stall longer than the lease, or Redis lost
    // its data) is online again without an announcement; its next connect/disconnect resyncs it.
    if (revived > 0) this.log.warn({ users: revived }, 'presence leases re-registered after they had expired');
  }

  private async sweep(): Promise<void> {
    if (this.stopped || this.redis.status !== 'ready') return;
    let failed = 0;
    let lastError = '';
    for (const shard of this.keys.shards) {
      try {
        for (;;) {
          const reply = (await this.call('sweep')(shard.online, shard.lastSeen, shard.connsPrefix, this.leaseMs, SWEEP_BATCH)) as string[];
          for (let i = 0; i + 1 < reply.length; i += 2) await this.report(reply[i] ?? '', Number(reply[i + 1]));
          if (reply.length / 2 < SWEEP_BATCH || this.stopped) break;
        }
      } catch (err) {
        // One shard's node may be down while the others answer: sweep those, warn once.
        failed++;
        lastError = (err as Error).message;
      }
      if (this.stopped) break;
    }
    if (failed > 0) this.log.warn({ shards: failed, err: { message: lastError } }, 'presence sweep failed');
  }

  private async report(userId: string, lastSeen: number): Promise<void> {
    for (const handler of this.handlers) {
      try {
        await handler(userId, lastSeen);
      } catch (err) {
        this.log.error({ err: { message: (err as Error).message }, userId }, 'presence expiry handler failed');
      }
    }
  }

  private stopTimers(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  private member(connectionId: string): string {
    return `${this.options.instanceId}:${connectionId}`;
  }

  private call(name: keyof typeof commandNames): ScriptCall {
    const fn = (this.redis as unknown as Record<string, ScriptCall>)[commandNames[name]];
    if (!fn) throw new Error(`presence script ${name} is not defined`);
    return fn.bind(this.redis);
  }

  private pipe(pipeline: ChainableCommander, name: keyof typeof commandNames): PipelineCall {
    const fn = (pipeline as unknown as Record<string, PipelineCall>)[commandNames[name]];
    if (!fn) throw new Error(`presence script ${name} is not defined`);
    return fn.bind(pipeline);
  }
}
