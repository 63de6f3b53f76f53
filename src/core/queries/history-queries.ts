import type { Message } from '../../domain/message.js';
import { accessChat } from '../access/access-chat.js';
import type { CoreContext } from '../core-context.js';
import { SingleFlight } from '../single-flight.js';
import type { Store } from '../../ports/store.js';

/**
 * Page reads coalesced per store (one per core): after a reconnect storm every member of a chat
 * asks for the same page at once, and one query answers them all. Only the read is shared;
 * access is checked and deliveries are noted per caller. Kept beside the store rather than in
 * the core context so this read path stays self-contained.
 */
const flights = new WeakMap<Store, SingleFlight<Message[]>>();

function sharedRead(store: Store, key: string, read: () => Promise<Message[]>): Promise<Message[]> {
  let flight = flights.get(store);
  if (!flight) flights.set(store, (flight = new SingleFlight()));
  return flight.run(key, read);
}

export interface HistoryRequest {
  readonly limit: number;
  readonly offset: number;
  readonly beforeId?: number | undefined;
}

/**
 * A page counted back from the newest message, oldest first. Returning messages to a member
 * counts as delivering them (SPEC "Receipts").
 */
export async function history(ctx: CoreContext, actorId: string, chatId: number, request: HistoryRequest): Promise<Message[]> {
  await accessChat(ctx, actorId, chatId);
  const limit = Math.min(request.limit, ctx.settings.maxPageSize);
  const { offset, beforeId } = request;
  const messages = limit === 0 ? [] : await sharedRead(ctx.store, `page:${chatId}:${limit}:${offset}:${beforeId ?? ''}`, () => ctx.store.listMessages(chatId, { limit, offset, beforeId }));
  noteDelivered(ctx, actorId, messages);
  return messages;
}

/** Catch-up by seq: everything after the last seq the client saw, oldest first. */
export async function messagesAfterSeq(ctx: CoreContext, actorId: string, chatId: number, afterSeq: number, limit: number): Promise<Message[]> {
  await accessChat(ctx, actorId, chatId);
  const bounded = Math.min(limit, ctx.settings.maxPageSize);
  const messages = await sharedRead(ctx.store, `after:${chatId}:${afterSeq}:${bounded}`, () => ctx.store.listMessagesAfterSeq(chatId, afterSeq, bounded));
  noteDelivered(ctx, actorId, messages);
  return messages;
}

/** Catch-up by time (`stomp` missed-messages), from the same data. */
export async function messagesSince(ctx: CoreContext, actorId: string, chatId: number, since: number, limit: number): Promise<Message[]> {
  await accessChat(ctx, actorId, chatId);
  const messages = await ctx.store.listMessagesSince(chatId, since, limit);
  noteDelivered(ctx, actorId, messages);
  return messages;
}

function noteDelivered(ctx: CoreContext, actorId: string, messages: readonly Message[]): void {
  for (const m of messages) ctx.deliveries.noteMessage(actorId, m);
}

export interface ChangesPage {
  /** Changed messages in change order, each in its current state (a deleted one as its tombstone). */
  readonly changes: Message[];
  /** What to ask after next time: the last change returned, or the cursor given when none. */
  readonly cursor: number;
}

/**
 * Catch-up of edits and deletes: every message changed after `afterChangeSeq`. A client keeps
 * the highest `changeSeq` it has seen (history pages, live events, these pages) and asks again
 * after a reconnect; several edits of one message collapse into its latest state.
 */
export async function changesAfter(ctx: CoreContext, actorId: string, chatId: number, afterChangeSeq: number, limit: number): Promise<ChangesPage> {
  await accessChat(ctx, actorId, chatId);
  const bounded = Math.min(limit, ctx.settings.maxPageSize);
  const changes = bounded === 0 ? [] : await ctx.store.listChangesAfter(chatId, afterChangeSeq, bounded);
  return { changes, cursor: changes.at(-1)?.changeSeq ?? afterChangeSeq };
}
