/**
 * `npm run bench -- --scenario storm` (issue 15): 5000 `hub` clients in groups of 10, all dropped
 * at once (RST, like a dying proxy), each reconnecting at a random moment within 5 s and
 * catching up by seq from the REST history (newest page first, further pages until it reaches
 * the last seq it saw). One more member per group keeps sending all along, so messages land
 * before, during and after the storm. Prints: messages missed (must be 0), time until presence
 * equals the truth (everyone online again, read through the REST presence route), and the
 * catch-up latency (from the scheduled reconnect to the page in hand).
 * Bounded: 127.0.0.1 only, ~5500 sockets (the server gets a raised open-file limit), one run.
 */
import { performance } from 'node:perf_hooks';
import { bulkStorage } from './bulk-provision.js';
import { openHubSocket, type HubMessage, type LeanSocket } from './hub-lean-client.js';
import { cpuMicros } from './proc-stats.js';
import { Provisioner } from './provision.js';
import { startPolychat } from './server-process.js';
import { mapLimit, sleep } from './topology.js';
import { seededRandom } from './delivery-tracker.js';

export interface StormOptions {
  readonly quick: boolean;
  readonly log: (line: string) => void;
  /** `--profile DIR`: node --cpu-prof of the server into DIR. */
  readonly profileDir?: string | null;
  /** `--users N`: clients (a multiple of 10; default 5000, --quick 500). */
  readonly clients?: number;
}

export interface StormResult {
  scenario: 'storm';
  storage: string;
  ok: boolean;
  error?: string;
  clients: number;
  groups: number;
  reconnectWindowS: number;
  sendRate: number;
  messagesMissed: number;
  messagesExpected: number;
  reconnectFailures: number;
  /** Clients still not back (and caught up) 60 s after the drop; their messages are not counted as missed. */
  notReconnected: number;
  failureKinds: Record<string, number>;
  catchUpPages: number;
  catchUpP50Ms: number;
  catchUpP99Ms: number;
  catchUpMaxMs: number;
  /** Of the catch-up: the WebSocket handshake alone (p99). */
  openP99Ms: number;
  settleMs: number | null;
  presenceChecked: number;
  presenceWrong: number;
  serverAlive: boolean;
  serverCpuMs: number;
}

interface Client {
  readonly userId: string;
  readonly chatId: string;
  token: string;
  socket: LeanSocket | null;
  /** Every seq of its chat this client has seen, live or from a catch-up page. */
  readonly seen: Set<number>;
  /** The first seq it saw live: everything from here to the end must be seen. */
  first: number;
  last: number;
  /** The newest seq seen when the connection dropped: the catch-up must reach back to it. */
  atDrop: number;
}

const pct = (sorted: readonly number[], q: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : Number.NaN);
const round = (n: number, d = 1): number => (Number.isFinite(n) ? Number(n.toFixed(d)) : n);

export async function runStorm(options: StormOptions): Promise<StormResult> {
  const { log, quick } = options;
  const clientsN = Math.max(10, Math.round((options.clients ?? (quick ? 500 : 5000)) / 10) * 10);
  const groupSize = 10;
  const groups = clientsN / groupSize;
  const windowMs = 5000;
  const sendRate = quick ? 50 : 200;
  const result: StormResult = {
    scenario: 'storm', storage: '?', ok: false, clients: clientsN, groups, reconnectWindowS: windowMs / 1000, sendRate, messagesMissed: -1, messagesExpected: 0, reconnectFailures: 0, notReconnected: 0, failureKinds: {},
    catchUpPages: 0, catchUpP50Ms: Number.NaN, catchUpP99Ms: Number.NaN, catchUpMaxMs: Number.NaN, openP99Ms: Number.NaN, settleMs: null, presenceChecked: 0, presenceWrong: -1, serverAlive: false, serverCpuMs: 0,
  };
  const storage = await bulkStorage();
  result.storage = storage.kind;
  const clients: Client[] = [];
  const senders: LeanSocket[] = [];
  let server: Awaited<ReturnType<typeof startPolychat>> | null = null;
  let sending = false;
  try {
    const ids: string[] = [];
    const chats = Array.from({ length: groups }, (_, g) => {
      const members = [`sender${g + 1}`, ...Array.from({ length: groupSize }, (_, k) => `s${g * groupSize + k + 1}`)];
      ids.push(...members);
      return { id: g + 1, name: `storm ${g + 1}`, memberIds: members };
    });
    await storage.fill(ids, chats);
    const nodeFlags = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
    server = await startPolychat({ env: { ...storage.env, RATE_LIMIT_CONNECTIONS: '0' }, manyFiles: true, nodeFlags });
    const url = server.url;
    const provisioner = new Provisioner(url, server.jwtSecret);
    const chatLast = new Int32Array(groups + 1);
    for (const c of chats) for (const userId of c.memberIds.slice(1)) clients.push({ userId, chatId: String(c.id), token: await provisioner.token(userId), socket: null, seen: new Set(), first: 0, last: 0, atDrop: 0 });
    const onLive = (c: Client) => (m: HubMessage) => {
      if (m.chatId !== c.chatId) return;
      c.seen.add(m.seq);
      if (c.first === 0) c.first = m.seq;
      if (m.seq > c.last) c.last = m.seq;
    };
    const cpu0 = cpuMicros(server.pid);
    await mapLimit(chats, 32, async (c, g) => {
      senders[g] = await openHubSocket(url, await provisioner.token(c.memberIds[0]!), (m) => {
        if (m.seq > chatLast[c.id]!) chatLast[c.id] = m.seq;
      });
    });
    await mapLimit(clients, 64, async (c) => {
      c.socket = await openHubSocket(url, c.token, onLive(c));
    });
    log(`storm: ${clientsN} clients + ${groups} senders connected`);

    // Senders: round-robin over the groups at sendRate, from now until after the storm settled.
    sending = true;
    const sender = (async () => {
      let i = 0;
      const start = performance.now();
      while (sending) {
        const due = Math.floor(((performance.now() - start) * sendRate) / 1000);
        for (; i < due; i++) senders[i % groups]!.send(String((i % groups) + 1), `storm ${i}`);
        await sleep(5);
      }
    })();
    await sleep(3000);

    // The storm: every client's connection gone at once, then back at a random moment within the window.
    const random = seededRandom(5000);
    const dropAt = performance.now();
    for (const c of clients) {
      c.atDrop = c.last;
      // From the first message it saw live (or the chat's first, if none came yet) to the end.
      if (c.first === 0) c.first = 1;
      c.socket!.drop();
    }
    const catchUps: number[] = [];
    const opens: number[] = [];
    const failures = new Map<string, number>();
    const back = new Set<Client>();
    let pages = 0;
    const catchUp = async (c: Client): Promise<void> => {
      // The newest page; older pages until the last seq seen before the drop is covered.
      for (let offset = 0; ; offset += 50) {
        const { status, json } = await provisioner.request(c.token, 'GET', `/api/v1/chat/conversations/${c.chatId}/messages?limit=50&offset=${offset}`);
        pages++;
        if (status !== 200) throw new Error(`catch-up ${c.userId}: HTTP ${status}`);
        const messages = (json as { messages: { seq: number }[] }).messages;
        for (const m of messages) {
          c.seen.add(m.seq);
          if (m.seq > c.last) c.last = m.seq;
        }
        // Pages are oldest first: done once the oldest reaches what was seen before the drop.
        if (messages.length < 50 || messages[0]!.seq <= c.atDrop + 1) return;
      }
    };
    await Promise.all(
      clients.map(async (c) => {
        const at = dropAt + random() * windowMs;
        await sleep(Math.max(0, at - performance.now()));
        // Like a real client: retry with a growing, jittered back-off, for at most 60 s after the drop.
        for (let attempt = 0; performance.now() - dropAt < 60_000; attempt++) {
          try {
            const t0 = performance.now();
            c.socket = await openHubSocket(url, c.token, onLive(c));
            opens.push(performance.now() - t0);
            await catchUp(c);
            catchUps.push(performance.now() - at);
            back.add(c);
            return;
          } catch (err) {
            result.reconnectFailures++;
            c.socket?.drop();
            const kind = (err as Error).message.replace(/s\d+|\d+/g, 'N').slice(0, 80);
            failures.set(kind, (failures.get(kind) ?? 0) + 1);
            await sleep(Math.min(5000, 250 * 2 ** attempt) * (0.5 + random()));
          }
        }
      }),
    );
    const reconnectedAt = performance.now();
    log(`storm: reconnected and caught up ${((reconnectedAt - dropAt) / 1000).toFixed(1)} s after the drop`);

    // Settle: every client is connected again, so the truth is "everyone online".
    const sample = clients.filter((_, i) => i % (quick ? 1 : 5) === 0);
    const settleUntil = performance.now() + 30_000;
    let wrong = sample.length;
    while (performance.now() < settleUntil) {
      const answers = await mapLimit(sample, 32, async (c) => (await provisioner.request(clients[0]!.token, 'GET', `/api/v1/chat/presence/${c.userId}`)).json as { online?: boolean });
      wrong = answers.filter((a) => a.online !== true).length;
      if (wrong === 0) {
        result.settleMs = Math.round(performance.now() - dropAt);
        break;
      }
      await sleep(250);
    }
    result.presenceChecked = sample.length;
    result.presenceWrong = wrong;

    sending = false;
    await sender;
    await sleep(2000); // the last sends' echoes and deliveries
    let missed = 0;
    let expected = 0;
    for (const c of back) {
      const last = chatLast[Number(c.chatId)]!;
      for (let s = c.first; s <= last; s++) {
        expected++;
        if (!c.seen.has(s)) missed++;
      }
    }
    result.messagesMissed = missed;
    result.messagesExpected = expected;
    catchUps.sort((a, b) => a - b);
    result.catchUpPages = pages;
    result.catchUpP50Ms = round(pct(catchUps, 0.5));
    result.catchUpP99Ms = round(pct(catchUps, 0.99));
    result.catchUpMaxMs = round(catchUps.at(-1) ?? Number.NaN);
    opens.sort((a, b) => a - b);
    result.openP99Ms = round(pct(opens, 0.99));
    result.serverAlive = (await fetch(`${url}/healthz`).then((r) => r.ok).catch(() => false)) === true;
    result.serverCpuMs = Math.round((cpuMicros(server.pid) - cpu0) / 1000);
    result.notReconnected = clients.length - back.size;
    result.failureKinds = Object.fromEntries(failures);
    result.ok = result.serverAlive && catchUps.length === clients.length;
    if (!result.ok) result.error = result.serverAlive ? `${clients.length - catchUps.length} clients did not reconnect` : 'server down after the storm';
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0];
  } finally {
    sending = false;
    for (const c of clients) c.socket?.drop();
    for (const s of senders) s?.drop();
    await server?.stop();
    await storage.drop();
  }
  return result;
}
