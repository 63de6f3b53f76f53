import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../src/domain/events.js';
import type { Message } from '../../../src/domain/message.js';
import { SLOW_CONSUMER_PACKETS, SocketIoSession } from '../../../src/transports/socketio/socketio-session.js';

/** The session's bookkeeping for events no wire test can observe (a deleted chat's id is never reused). */
describe('SocketIoSession', () => {
  const emitted: unknown[] = [];
  let backlog = 0;
  let disconnects = 0;
  const sink = {
    emit: (_event: string, payload: unknown) => emitted.push(payload),
    prepare: (_event: string, payload: unknown) => ({ encoded: [payload], wsFrame: undefined }),
    emitPrepared: (packet: { encoded: readonly unknown[] }) => void emitted.push(packet.encoded[0]),
    disconnect: () => disconnects++,
    backlog: () => backlog,
  };
  const message: Message = { id: 9, chatId: 3, senderId: '1', text: 'hi', seq: 1, kind: 'TEXT', replyTo: null, clientMsgId: null, createdAt: 0, editedAt: null, deletedAt: null, changeSeq: 0 };
  const created: DomainEvent = {
    type: 'message.created',
    chatId: 3,
    chatType: 'group',
    message,
    sender: { id: '1', username: 'ann', name: null, firstName: null, lastName: null, email: null },
    committedAt: 0,
  };

  it('forgets a chat it lost access to (deleted, or its user removed), and only then', () => {
    const s = new SocketIoSession('s', '2', sink);
    s.join(3);
    expect(s.handle({ type: 'members.removed', chatId: 3, userIds: ['5'], memberIds: ['1', '2'], actorId: '1' })).toBe(false);
    expect(s.hasJoined(3)).toBe(true);
    expect(s.handle({ ...created })).toBe(true);
    s.lostAccess(3);
    expect(s.hasJoined(3)).toBe(false);
    expect(s.handle({ ...created })).toBe(false);
    s.join(3);
    s.join(4);
    s.lostAccess(3);
    expect(s.hasJoined(3)).toBe(false);
    expect(s.hasJoined(4)).toBe(true);
    expect(emitted).toEqual([{ id: '9', text: 'hi', sender: '1', chatId: '3', createdAt: '1970-01-01T00:00:00.000Z', user: { id: '1', email: null, username: 'ann' } }]);
  });

  it('closes a slow consumer instead of queueing without bound', () => {
    const s = new SocketIoSession('slow', '2', sink);
    s.join(3);
    backlog = SLOW_CONSUMER_PACKETS + 1;
    const before = emitted.length;
    expect(s.handle({ ...created })).toBe(false);
    expect(disconnects).toBe(1);
    expect(emitted.length).toBe(before);
    backlog = 0;
  });
});
