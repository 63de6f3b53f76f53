import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/bus/memory-broker.js';
import type { ChatCore } from '../../src/core/chat-core.js';
import { publishEvent } from '../../src/core/event-topics.js';
import { forbidden } from '../../src/domain/errors.js';
import type { DomainEvent, MessageCreated } from '../../src/domain/events.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { LostAccessReason, Session } from '../../src/realtime/session.js';
import { SessionRegistry } from '../../src/realtime/session-registry.js';
import { sleep, waitFor } from '../support/wait.js';

/** A core that knows who is in which chat (as the store would) and nothing else. */
function fakeCore(chatsOf: Record<string, number[]>): ChatCore {
  return {
    connectionOpened: async () => {},
    connectionClosed: async () => {},
    chatIdsOf: async (userId: string) => [...(chatsOf[userId] ?? [])],
    checkAccess: async (userId: string, chatId: number) => {
      if (!(chatsOf[userId] ?? []).includes(chatId)) throw forbidden('not a member');
      return { type: 'group', role: 'member' };
    },
    noteDelivered: () => {},
  } as unknown as ChatCore;
}

interface Fake extends Session {
  readonly events: DomainEvent[];
  readonly lost: [number, LostAccessReason][];
}

let n = 0;
function session(userId: string, chatId?: number): Fake {
  const events: DomainEvent[] = [];
  const lost: [number, LostAccessReason][] = [];
  return {
    id: `s${++n}`,
    userId,
    dialect: 'hub',
    ...(chatId === undefined ? {} : { chatId }),
    events,
    lost,
    handle(event) {
      events.push(event);
      return event.type === 'message.created';
    },
    lostAccess(chat, reason) {
      lost.push([chat, reason]);
    },
    close() {},
  };
}

const message = (chatId: number, seq: number, text = `m${seq}`): MessageCreated => ({
  type: 'message.created',
  chatId,
  chatType: 'group',
  message: { id: chatId * 1000 + seq, chatId, senderId: 'x', text, seq, kind: 'TEXT', replyTo: null, clientMsgId: null, createdAt: 0, editedAt: null, deletedAt: null, changeSeq: 0 },
  sender: { id: 'x', username: 'x', name: null, firstName: null, lastName: null, email: null },
  committedAt: Date.now(),
});
const texts = (s: Fake): string[] => s.events.flatMap((e) => (e.type === 'message.created' ? [e.message.text] : []));

function setup(chatsOf: Record<string, number[]>): { broker: MemoryBroker; registry: SessionRegistry } {
  const broker = new MemoryBroker();
  const registry = new SessionRegistry(fakeCore(chatsOf), broker, silentLogger);
  registry.start();
  return { broker, registry };
}

describe('SessionRegistry by interest (topics, chat → local users index)', () => {
  it("subscribes a user's topic and chats on the first session, nothing more on the second, and drops them after the last", async () => {
    const { broker, registry } = setup({ u1: [1, 2], u2: [2] });
    const a = session('u1');
    const b = session('u1');
    await registry.add(a);
    expect(broker.topicCount).toBe(3); // user:u1, chat:1, chat:2
    await registry.add(b);
    expect(broker.topicCount).toBe(3);
    const c = session('u2');
    await registry.add(c);
    expect(broker.topicCount).toBe(4); // + user:u2 (chat:2 is shared)
    await registry.remove(a);
    expect(broker.topicCount).toBe(4);
    await registry.remove(b);
    await sleep(1);
    expect(broker.topicCount).toBe(2); // user:u2, chat:2
    await registry.remove(c);
    await sleep(1);
    expect(broker.topicCount).toBe(0);
  });

  it("delivers a chat's events to the local sessions of its members only, each once", async () => {
    const { broker, registry } = setup({ u1: [1], u2: [1, 2], u3: [2] });
    const [s1, s2, s2b, s3] = [session('u1'), session('u2'), session('u2'), session('u3')];
    for (const s of [s1, s2, s2b, s3]) await registry.add(s);
    publishEvent(broker, message(1, 1));
    publishEvent(broker, message(2, 1, 'in two'));
    publishEvent(broker, { type: 'typing', chatId: 1, userId: 'u1', username: 'u1', isTyping: true });
    await sleep(5);
    expect(texts(s1)).toEqual(['m1']);
    expect(texts(s2)).toEqual(['m1', 'in two']);
    expect(texts(s2b)).toEqual(['m1', 'in two']);
    expect(texts(s3)).toEqual(['in two']);
    expect(s3.events.some((e) => e.type === 'typing')).toBe(false);
  });

  it('follows membership: an added user subscribes and hears the chat, a removed one is told once and stops hearing it', async () => {
    const chatsOf: Record<string, number[]> = { owner: [5], newcomer: [] };
    const { broker, registry } = setup(chatsOf);
    const owner = session('owner');
    const newcomer = session('newcomer');
    await registry.add(owner);
    await registry.add(newcomer);
    const chat = { id: 5, type: 'group' as const, name: 'g', description: null, avatarUrl: null, createdAt: 0, updatedAt: 0, lastSeq: 0 };
    publishEvent(broker, { type: 'members.added', chatId: 5, chat, userIds: ['newcomer'], memberIds: ['owner', 'newcomer'], actorId: 'owner' });
    await waitFor(() => registry.hasChat('newcomer', 5), 1000, 'the index to take the newcomer in');
    expect(owner.events.filter((e) => e.type === 'members.added')).toHaveLength(1);
    expect(newcomer.events.filter((e) => e.type === 'members.added')).toHaveLength(1);
    publishEvent(broker, message(5, 1));
    await waitFor(() => texts(newcomer).length === 1, 1000, 'the message to reach the newcomer');

    publishEvent(broker, { type: 'members.removed', chatId: 5, userIds: ['newcomer'], memberIds: ['owner'], actorId: 'owner' });
    await waitFor(() => newcomer.lost.length > 0, 1000, 'lostAccess');
    await sleep(5);
    expect(newcomer.lost).toEqual([[5, 'removed']]);
    expect(newcomer.events.filter((e) => e.type === 'members.removed')).toHaveLength(1);
    expect(owner.events.filter((e) => e.type === 'members.removed')).toHaveLength(1);
    expect(owner.lost).toEqual([]);
    publishEvent(broker, message(5, 2));
    await sleep(5);
    expect(texts(newcomer)).toEqual(['m1']);
    expect(texts(owner)).toEqual(['m1', 'm2']);

    publishEvent(broker, { type: 'chat.deleted', chatId: 5, actorId: 'owner' });
    await waitFor(() => owner.lost.length > 0, 1000, 'lostAccess on deletion');
    expect(owner.lost).toEqual([[5, 'deleted']]);
    expect(registry.hasChat('owner', 5)).toBe(false);
  });

  it('gives a contact one presence event however many chats it shares with the user', async () => {
    const { broker, registry } = setup({ alice: [1, 2, 3], bob: [2, 3], carol: [1] });
    const [bob, carol] = [session('bob'), session('carol')];
    await registry.add(bob);
    await registry.add(carol);
    publishEvent(broker, { type: 'presence', userId: 'alice', online: true, lastSeen: null, chatIds: [1, 2, 3] });
    await sleep(5);
    expect(bob.events.filter((e) => e.type === 'presence')).toHaveLength(1);
    expect(carol.events.filter((e) => e.type === 'presence')).toHaveLength(1);
  });

  it('tells a per-chat session it lost the chat when a removal committed before it was registered', async () => {
    const { registry } = setup({ u1: [1] });
    const kept = session('u1', 1);
    const gone = session('u1', 2);
    await registry.add(kept);
    await registry.add(gone);
    expect(kept.lost).toEqual([]);
    expect(gone.lost).toEqual([[2, 'removed']]);
  });

  it('does not hold the first message after the instance listens to a chat again (seqs it missed meanwhile)', async () => {
    const { broker, registry } = setup({ u1: [9] });
    const first = session('u1');
    await registry.add(first);
    publishEvent(broker, message(9, 1));
    await sleep(5);
    await registry.remove(first);
    await sleep(1);
    const again = session('u1');
    await registry.add(again);
    const started = Date.now();
    publishEvent(broker, message(9, 7)); // seqs 2..6 were sent while nobody here listened
    await waitFor(() => texts(again).length === 1, 1000, 'the message');
    expect(Date.now() - started).toBeLessThan(150); // not held for the 200 ms gap wait
  });
});
