import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import type { Connection, Receiver } from './clients/driver.js';
import type { Member, Topology } from './topology.js';

/** One measured batch of sends: what was scheduled, who must receive it, what arrived when. */
export class RunState {
  sent = 0;
  expected = 0;
  received = 0;
  duplicates = 0;
  misrouted = 0;
  lastReceiptAt = 0;
  nLatencies = 0;
  readonly sched: Float64Array;
  readonly group: Int32Array;
  readonly mask: Uint32Array;
  readonly latencies: Float64Array;
  readonly sendLag: Float64Array;

  constructor(
    readonly base: number,
    readonly capacity: number,
    maxGroup: number,
  ) {
    this.sched = new Float64Array(capacity);
    this.group = new Int32Array(capacity).fill(-1);
    this.mask = new Uint32Array(capacity);
    this.latencies = new Float64Array(capacity * maxGroup);
    this.sendLag = new Float64Array(capacity);
  }

  get lost(): number {
    return this.expected - this.received;
  }

  /** Sorted latencies (ms) and the chosen percentiles. */
  percentiles(): { p50: number; p95: number; p99: number; max: number } {
    const sorted = this.latencies.subarray(0, this.nLatencies).slice().sort();
    return { p50: pick(sorted, 0.5), p95: pick(sorted, 0.95), p99: pick(sorted, 0.99), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
  }

  sendLagP99(): number {
    return pick(this.sendLag.subarray(0, this.sent).slice().sort(), 0.99);
  }
}

function pick(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** mulberry32: a seeded PRNG, so every run picks the same senders in the same order. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEXT_BYTES = 100;

/**
 * The generator's receiving side. Each message text embeds `<nonce>.<send id>.` (padded to 100
 * bytes), so a receipt finds its scheduled send time with one lookup; one clock
 * (`performance.now()`) for sending and receiving. Per (message, receiver) a bit says whether
 * it already arrived: duplicates and losses are exact. Per receiver, the `seq` of consecutive
 * deliveries must grow by one (inline when the wire carries it, else recorded ids are checked
 * against the REST history after the run).
 */
export class DeliveryTracker implements Receiver {
  readonly nonce = randomBytes(3).toString('hex');
  private nextId = 0;
  private run: RunState | null = null;
  stray = 0;
  errors = 0;
  readonly errorSamples: string[] = [];
  readonly lastSeq: Int32Array;
  seqViolations = 0;
  readonly ids: number[][];
  private readonly maxGroup: number;

  constructor(
    readonly topology: Topology,
    readonly inlineSeq: boolean,
  ) {
    this.lastSeq = new Int32Array(topology.members.length).fill(-1);
    this.ids = inlineSeq ? [] : topology.members.map(() => []);
    this.maxGroup = Math.max(1, ...topology.groups.map((g) => g.members.length));
  }

  begin(capacity: number): RunState {
    this.run = new RunState(this.nextId, capacity, this.maxGroup);
    this.nextId += capacity;
    return this.run;
  }

  text(id: number): string {
    return `${this.nonce}.${id}.`.padEnd(TEXT_BYTES, 'x');
  }

  /** Sends message `i` of the current run from `member` (scheduled at `sched`, ms). */
  sendFrom(run: RunState, i: number, member: Member, connection: Connection, sched: number): void {
    run.sched[i] = sched;
    run.group[i] = member.group;
    run.expected += this.topology.groups[member.group]!.members.length;
    run.sent++;
    connection.send(this.text(run.base + i));
  }

  deliver(member: Member, text: string, msgId: number | null, seq: number | null): void {
    const now = performance.now();
    if (this.inlineSeq) {
      if (seq !== null) {
        const last = this.lastSeq[member.index]!;
        if (last >= 0 && seq !== last + 1) this.seqViolations++;
        this.lastSeq[member.index] = seq;
      }
    } else if (msgId !== null) this.ids[member.index]!.push(msgId);

    const run = this.run;
    if (!text.startsWith(this.nonce) || run === null) {
      this.stray++;
      return;
    }
    const id = Number.parseInt(text.slice(this.nonce.length + 1), 10);
    const i = id - run.base;
    if (!(i >= 0 && i < run.capacity) || run.group[i] === -1) {
      this.stray++;
      return;
    }
    if (run.group[i] !== member.group) {
      run.misrouted++;
      return;
    }
    const bit = 1 << member.slot;
    if (run.mask[i]! & bit) {
      run.duplicates++;
      return;
    }
    run.mask[i]! |= bit;
    run.received++;
    run.lastReceiptAt = now;
    run.latencies[run.nLatencies++] = now - run.sched[i]!;
  }

  /** Frames received by every connection (any kind), for frames-per-message figures. */
  frames = 0;

  frame(): void {
    this.frames++;
  }

  error(_member: Member, what: string): void {
    this.errors++;
    if (this.errorSamples.length < 5 && !this.errorSamples.includes(what)) this.errorSamples.push(what);
  }

  /** Waits until every expected delivery arrived, or nothing arrived for `idleMs`, or `maxMs`. */
  async drain(run: RunState, idleMs = 5000, maxMs = 15_000): Promise<void> {
    const start = performance.now();
    let lastCount = -1;
    let lastChange = start;
    while (run.received < run.expected) {
      await new Promise((r) => setTimeout(r, 20));
      const now = performance.now();
      if (run.received !== lastCount) {
        lastCount = run.received;
        lastChange = now;
      }
      if (now - lastChange > idleMs || now - start > maxMs) return;
    }
  }
}

export interface OpenLoopOptions {
  readonly rate: number;
  readonly durationMs: number;
  readonly random: () => number;
}

/**
 * Open loop: message i is due at start + i/rate, whatever happened to earlier ones; every due
 * message is sent at once (timer granularity ~1 ms) and never waits for a reply. Latency is
 * measured from the *scheduled* time, so a stalled generator or server shows up as latency
 * instead of silently lowering the rate (no coordinated omission).
 */
export function runOpenLoop(tracker: DeliveryTracker, connections: readonly Connection[], options: OpenLoopOptions): Promise<RunState> {
  const total = Math.max(1, Math.round((options.rate * options.durationMs) / 1000));
  const run = tracker.begin(total);
  const members = tracker.topology.members;
  const interval = 1000 / options.rate;
  const start = performance.now() + 5;
  let i = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (i < total && start + i * interval <= now) {
        const member = members[Math.floor(options.random() * members.length)]!;
        const sched = start + i * interval;
        run.sendLag[i] = now - sched;
        tracker.sendFrom(run, i, member, connections[member.index]!, sched);
        i++;
      }
      if (i < total) setTimeout(tick, Math.max(0, Math.min(1, start + i * interval - now)));
      else resolve(run);
    };
    setTimeout(tick, 5);
  });
}

/** One message per group from its first member; resolves when every member got its group's. */
export async function prime(tracker: DeliveryTracker, connections: readonly Connection[], timeoutMs = 20_000): Promise<RunState> {
  const groups = tracker.topology.groups;
  const run = tracker.begin(groups.length);
  const now = performance.now();
  groups.forEach((g, i) => {
    const m = g.members[0]!;
    tracker.sendFrom(run, i, m, connections[m.index]!, now);
  });
  await tracker.drain(run, timeoutMs, timeoutMs);
  return run;
}
