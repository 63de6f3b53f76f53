import { describe, expect, it } from 'vitest';
import type { MessageCreated } from '../../src/domain/events.js';
import { SeqOrderer } from '../../src/realtime/seq-orderer.js';
import { sleep } from '../support/wait.js';

const event = (chatId: number, seq: number): MessageCreated => ({
  type: 'message.created',
  chatId,
  chatType: 'group',
  message: { id: seq, chatId, senderId: 'a', text: `m${seq}`, seq, kind: 'TEXT', replyTo: null, clientMsgId: null, createdAt: 0, editedAt: null, deletedAt: null, changeSeq: 0 },
  sender: { id: 'a', username: null, name: null, firstName: null, lastName: null, email: null },
  committedAt: 0,
});

describe('SeqOrderer', () => {
  it('passes in-order events straight through', () => {
    const out: number[] = [];
    const o = new SeqOrderer((e) => out.push(e.message.seq));
    for (const seq of [1, 2, 3]) o.push(event(1, seq));
    expect(out).toEqual([1, 2, 3]);
  });

  it('holds an event that skips ahead until the missing one arrives', () => {
    const out: number[] = [];
    const o = new SeqOrderer((e) => out.push(e.message.seq), 10_000);
    o.push(event(1, 1));
    o.push(event(1, 3));
    o.push(event(1, 4));
    expect(out).toEqual([1]);
    o.push(event(1, 2));
    expect(out).toEqual([1, 2, 3, 4]);
  });

  it('keeps chats independent', () => {
    const out: string[] = [];
    const o = new SeqOrderer((e) => out.push(`${e.chatId}:${e.message.seq}`), 10_000);
    o.push(event(1, 1));
    o.push(event(1, 3));
    o.push(event(2, 7));
    expect(out).toEqual(['1:1', '2:7']);
  });

  it('never drops: after the hold, a gap is delivered as is', async () => {
    const out: number[] = [];
    const o = new SeqOrderer((e) => out.push(e.message.seq), 30);
    o.push(event(1, 1));
    o.push(event(1, 5));
    o.push(event(1, 4));
    await sleep(80);
    expect(out).toEqual([1, 4, 5]);
    o.push(event(1, 6));
    expect(out).toEqual([1, 4, 5, 6]);
  });

  it('delivers a late event for a chat first seen after it, and flushes on demand', () => {
    const out: number[] = [];
    const o = new SeqOrderer((e) => out.push(e.message.seq), 10_000);
    o.push(event(1, 6));
    o.push(event(1, 5));
    o.push(event(1, 9));
    expect(out).toEqual([6, 5]);
    o.flush();
    expect(out).toEqual([6, 5, 9]);
  });
});
