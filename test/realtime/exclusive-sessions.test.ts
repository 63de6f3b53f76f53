import { describe, expect, it, vi } from 'vitest';
import { MemoryBroker } from '../../src/bus/memory-broker.js';
import type { ChatCore } from '../../src/core/chat-core.js';
import type { SessionClaimed } from '../../src/domain/events.js';
import { userTopic } from '../../src/ports/broker.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { DialectName, Session } from '../../src/realtime/session.js';
import { SessionRegistry } from '../../src/realtime/session-registry.js';
import { sleep } from '../support/wait.js';

/** The registry's collaborators that matter here: presence calls succeed, events are ignored. */
const core = {
  connectionOpened: async () => {},
  connectionClosed: async () => {},
  chatIdsOf: async () => [],
  noteDelivered: () => {},
} as unknown as ChatCore;

/** Two registries on one bus: two instances. */
function instances(): [SessionRegistry, SessionRegistry, MemoryBroker] {
  const broker = new MemoryBroker();
  const x = new SessionRegistry(core, broker, silentLogger);
  const y = new SessionRegistry(core, broker, silentLogger);
  x.start();
  y.start();
  return [x, y, broker];
}

interface Fake extends Session {
  replacedBy: string[];
  handled: string[];
}

let n = 0;
/** A session that closes (and leaves the registry) when replaced, as the channels dialect does. */
async function open(registry: SessionRegistry, userId: string, key: string, dialect: DialectName = 'channels', id = `s${++n}`): Promise<Fake> {
  const session: Fake = {
    id,
    userId,
    dialect,
    replacedBy: [],
    handled: [],
    handle(event) {
      this.handled.push(event.type);
      return false;
    },
    lostAccess() {},
    close() {
      void registry.remove(session);
    },
  };
  registry.claimExclusive(session, key, (by) => {
    session.replacedBy.push(by);
    session.close(4409, 'replaced');
  });
  await registry.add(session);
  return session;
}

const settle = () => sleep(5);

describe('SessionRegistry.claimExclusive (one connection per user and key, across instances)', () => {
  it('replaces the older session of the same user, dialect and key at once on the same instance', async () => {
    const [x] = instances();
    const first = await open(x, 'u1', 'chat:1');
    const otherKey = await open(x, 'u1', 'chat:2');
    const otherUser = await open(x, 'u2', 'chat:1');
    const otherDialect = await open(x, 'u1', 'chat:1', 'hub');
    const second = await open(x, 'u1', 'chat:1');
    expect(first.replacedBy).toEqual([second.id]);
    await settle(); // the claim's own echo from the bus changes nothing more
    expect(first.replacedBy).toEqual([second.id]);
    for (const s of [otherKey, otherUser, otherDialect, second]) expect(s.replacedBy).toEqual([]);
    expect([...x.sessionsOf('u1')]).not.toContain(first);
    // The claim is the registry's business: no session's handle ever sees it.
    for (const s of [first, otherKey, otherUser, otherDialect, second]) expect(s.handled).toEqual([]);
  });

  it('replaces the older session on another instance when the claim arrives over the bus', async () => {
    const [x, y] = instances();
    const onX = await open(x, 'u1', 'chat:1');
    const keep = await open(x, 'u1', 'chat:9');
    const onY = await open(y, 'u1', 'chat:1');
    await settle();
    expect(onX.replacedBy).toEqual([onY.id]);
    expect(onY.replacedBy).toEqual([]);
    expect(keep.replacedBy).toEqual([]);
  });

  it('keeps exactly one of two claims that cross on the bus: the later one, ties by the greater session id', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(1_000_000);
      const [x, , broker] = instances();
      const local = await open(x, 'u1', 'chat:1', 'channels', 'm');
      const other = await open(x, 'u2', 'chat:1', 'channels', 'm2');
      await settle();
      const claim = (sessionId: string, at: number, userId = 'u1'): SessionClaimed => ({
        type: 'session.claimed',
        userId,
        dialect: 'channels',
        key: 'chat:1',
        sessionId,
        at,
      });
      broker.publish(userTopic('u1'), claim('older', 999_000)); // made before ours, arriving late: ours stays
      broker.publish(userTopic('u1'), claim('a', 1_000_000)); // same instant, smaller id: ours stays
      await settle();
      expect(local.replacedBy).toEqual([]);
      broker.publish(userTopic('u1'), claim('zz', 1_000_000)); // same instant, greater id: it wins
      broker.publish(userTopic('u2'), claim('later', 1_000_005, 'u2')); // later: it wins
      await settle();
      expect(local.replacedBy).toEqual(['zz']);
      expect(other.replacedBy).toEqual(['later']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('lets the newer local claim win even within one millisecond or when the clock steps back', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(2_000_000);
      const [x] = instances();
      // Session ids chosen so that the id tie-break alone would keep the older one.
      const first = await open(x, 'u1', 'chat:1', 'channels', 'zzz');
      const second = await open(x, 'u1', 'chat:1', 'channels', 'aaa'); // same millisecond
      vi.setSystemTime(1_000_000); // clock stepped back
      const third = await open(x, 'u1', 'chat:1', 'channels', 'a');
      await settle();
      expect(first.replacedBy).toEqual(['aaa']);
      expect(second.replacedBy).toEqual(['a']);
      expect(third.replacedBy).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('forgets a closed session: a later claim does not call it again', async () => {
    const [x, y] = instances();
    const gone = await open(x, 'u1', 'chat:1');
    await x.remove(gone);
    await open(y, 'u1', 'chat:1');
    await settle();
    expect(gone.replacedBy).toEqual([]);
  });
});
