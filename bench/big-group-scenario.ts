/**
 * `npm run bench -- --scenario big-group` (issue 15): one group of 10 000 members, 200 of them
 * connected (`hub`), 50 msg/s for 10 s from the connected ones. Prints lost deliveries, latency
 * and the server's CPU per delivery; run.ts prints the standard workload's beside it.
 * The users and the group are written straight into a database of the scenario's own
 * (bench/bulk-provision.ts): provisioning 10 000 members through the API would be most of the run.
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { bulkStorage } from './bulk-provision.js';
import { openHubSocket, type LeanSocket } from './hub-lean-client.js';
import { cpuMicros, rssBytes } from './proc-stats.js';
import { Provisioner } from './provision.js';
import { startPolychat } from './server-process.js';
import { mapLimit, sleep } from './topology.js';
import { seededRandom } from './delivery-tracker.js';

export interface BigGroupOptions {
  readonly quick: boolean;
  readonly log: (line: string) => void;
  /** `--profile DIR`: node --cpu-prof of the big-group server into DIR. */
  readonly profileDir?: string | null;
}

export interface BigGroupResult {
  scenario: 'big-group';
  storage: string;
  ok: boolean;
  error?: string;
  members: number;
  online: number;
  rate: number;
  durationS: number;
  provisionMs: number;
  connectMs: number;
  sent: number;
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverCpuUsPerMsg: number;
  serverCpuUsPerDelivery: number;
  serverRssMb: number;
  /** Server CPU from the first connect to 6.5 s later, per connection: handshake, auth, presence to every contact. */
  serverCpuUsPerConnection: number;
  /** Connections the server closed during the run (slow consumer, errors): should be 0. */
  closedByServer: number;
}

const pct = (sorted: Float64Array, q: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : Number.NaN);
const round = (n: number, d = 2): number => (Number.isFinite(n) ? Number(n.toFixed(d)) : n);

export async function runBigGroup(options: BigGroupOptions): Promise<BigGroupResult> {
  const { log, quick } = options;
  const members = quick ? 2000 : 10_000;
  const online = quick ? 50 : 200;
  const rate = 50;
  const durationMs = (quick ? 3 : 10) * 1000;
  const result: BigGroupResult = {
    scenario: 'big-group', storage: '?', ok: false, members, online, rate, durationS: durationMs / 1000, provisionMs: 0, connectMs: 0,
    sent: 0, expected: 0, received: 0, lost: 0, duplicates: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN, serverCpuUsPerMsg: Number.NaN, serverCpuUsPerDelivery: Number.NaN, serverRssMb: 0, closedByServer: 0, serverCpuUsPerConnection: Number.NaN,
  };
  const storage = await bulkStorage();
  result.storage = storage.kind;
  const sockets: LeanSocket[] = [];
  let server: Awaited<ReturnType<typeof startPolychat>> | null = null;
  try {
    const p0 = performance.now();
    const ids = Array.from({ length: members }, (_, i) => `g${i + 1}`);
    await storage.fill(ids, [{ id: 1, name: 'big group', memberIds: ids }]);
    result.provisionMs = Math.round(performance.now() - p0);
    log(`big-group: ${members} members provisioned in ${result.provisionMs} ms (${storage.kind})`);
    const nodeFlags = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
    server = await startPolychat({ env: storage.env, manyFiles: true, nodeFlags });
    const provisioner = new Provisioner(server.url, server.jwtSecret);

    // Deliveries: one bit per (message, connected member); latency from the scheduled send time.
    const nonce = randomBytes(3).toString('hex');
    const capacity = rate * (durationMs / 1000) + rate * 4 + 10;
    const sched = new Float64Array(capacity).fill(-1);
    const seen = new Uint8Array(capacity * online);
    const latencies = new Float64Array(capacity * online);
    let nLat = 0;
    let received = 0;
    let duplicates = 0;
    let measuring = false;
    const onMessage = (slot: number) => (m: { text: string }) => {
      if (!m.text.startsWith(nonce)) return;
      const i = Number.parseInt(m.text.slice(nonce.length + 1), 10);
      if (!(i >= 0 && i < capacity) || sched[i]! < 0) return;
      const bit = i * online + slot;
      if (seen[bit]) {
        duplicates++;
        return;
      }
      seen[bit] = 1;
      received++;
      if (measuring) latencies[nLat++] = performance.now() - sched[i]!;
    };
    const c0 = performance.now();
    const connectCpu0 = cpuMicros(server.pid);
    await mapLimit(ids.slice(0, online), 50, async (id, slot) => {
      sockets[slot] = await openHubSocket(server!.url, await provisioner.token(id), onMessage(slot), () => result.closedByServer++);
    });
    result.connectMs = Math.round(performance.now() - c0);
    // Members of a large group are announced online after the presence settle time (5 s): let
    // that pass, so the measured batch is the steady state, and report its cost per connection.
    await sleep(6500);
    result.serverCpuUsPerConnection = round((cpuMicros(server.pid) - connectCpu0) / online, 0);

    let next = 0;
    const send = (i: number, from: number, at: number): void => {
      sched[i] = at;
      sockets[from]!.send('1', `${nonce}.${i}.`.padEnd(100, 'x'));
    };
    // Priming: one message that every connected member must get (subscriptions live, caches warm).
    send(next++, 0, performance.now());
    const primeUntil = performance.now() + 20_000;
    while (received < online && performance.now() < primeUntil) await sleep(20);
    if (received < online) throw new Error(`priming: ${received} of ${online} deliveries after 20 s`);

    const random = seededRandom(15);
    const openLoop = async (ms: number): Promise<{ first: number; count: number }> => {
      const first = next;
      const total = Math.round((rate * ms) / 1000);
      const start = performance.now() + 5;
      let k = 0;
      while (k < total) {
        const now = performance.now();
        while (k < total && start + (k * 1000) / rate <= now) {
          send(next++, Math.floor(random() * online), start + (k * 1000) / rate);
          k++;
        }
        await sleep(1);
      }
      return { first, count: total };
    };
    const drain = async (expected: number): Promise<void> => {
      // As the standard tracker: give up after 5 s without progress or 20 s in all (a shared machine stalls).
      const until = performance.now() + 20_000;
      let last = received;
      let lastChange = performance.now();
      while (received < expected && performance.now() < until) {
        await sleep(20);
        if (received !== last) [last, lastChange] = [received, performance.now()];
        if (performance.now() - lastChange > 5000) break;
      }
    };
    await openLoop(quick ? 500 : 2000); // warm-up
    await drain(next * online);

    const receivedBefore = received;
    const dupBefore = duplicates;
    measuring = true;
    const cpu0 = cpuMicros(server.pid);
    const batch = await openLoop(durationMs);
    await drain(next * online);
    const cpu = cpuMicros(server.pid) - cpu0;
    measuring = false;
    const sorted = latencies.subarray(0, nLat).slice().sort();
    result.sent = batch.count;
    result.expected = batch.count * online;
    result.received = received - receivedBefore;
    result.lost = result.expected - result.received;
    result.duplicates = duplicates - dupBefore;
    result.p50Ms = round(pct(sorted, 0.5));
    result.p99Ms = round(pct(sorted, 0.99));
    result.maxMs = round(sorted.length ? sorted[sorted.length - 1]! : Number.NaN);
    result.serverCpuUsPerMsg = round(cpu / batch.count, 1);
    result.serverCpuUsPerDelivery = round(cpu / Math.max(1, result.received), 2);
    result.serverRssMb = round(rssBytes(server.pid) / 1048576, 1);
    result.ok = true;
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0];
  } finally {
    for (const s of sockets) s?.drop();
    await server?.stop();
    await storage.drop();
  }
  return result;
}
