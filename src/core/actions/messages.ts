import { badRequest, ChatError } from '../../domain/errors.js';
import type { MessageCreated } from '../../domain/events.js';
import type { Message } from '../../domain/message.js';
import { accessChat } from '../access/access-chat.js';
import type { CoreContext } from '../core-context.js';
import { messageCreated } from '../message-created.js';
import { checkMessageText, hasNul } from '../text-rules.js';
import { senderProfile } from '../user-directory.js';
import { publishEvent } from '../event-topics.js';
import { isLargeGroup } from '../large-group.js';

export interface SendInput {
  readonly chatId: number;
  readonly text: unknown;
  /** Defaults to `TEXT` (the `stomp` seed's default type). */
  readonly kind?: string | undefined;
  readonly replyTo?: number | null | undefined;
  /** A client's own id for this send: a retry with the same id returns the stored message. */
  readonly clientMsgId?: string | null | undefined;
}

export interface SendResult {
  readonly message: Message;
  /** False for an idempotent retry that returned an earlier message. */
  readonly created: boolean;
  /**
   * For a retry (`created: false`) only: the original message as a `message.created` event that
   * was NOT published. A dialect hands it to the retrying connection's own session, so that
   * connection gets its usual echo again while nobody else sees a second event.
   */
  readonly replay?: MessageCreated;
}

const MAX_KIND = 32;
const MAX_CLIENT_ID = 100;

/** The send's own fields (no lookups): text, kind, client id. Refused before anything is read or written. */
export function checkSendInput(ctx: CoreContext, input: Pick<SendInput, 'text' | 'kind' | 'clientMsgId'>): { text: string; kind: string; clientMsgId: string | null } {
  const text = checkMessageText(input.text, ctx.settings.maxMessageLength);
  const kind = input.kind ?? 'TEXT';
  if (typeof kind !== 'string' || kind.length === 0 || kind.length > MAX_KIND || hasNul(kind)) throw badRequest('type must be a short string');
  const clientMsgId = input.clientMsgId ?? null;
  if (clientMsgId !== null && (typeof clientMsgId !== 'string' || clientMsgId.length === 0 || clientMsgId.length > MAX_CLIENT_ID || hasNul(clientMsgId))) {
    throw badRequest(`client message id must be a string of 1..${MAX_CLIENT_ID} characters`);
  }
  return { text, kind, clientMsgId };
}

/**
 * The one door for new messages: validate, rate-limit, authorize, then the group-committed
 * write allocates the seq and announces `message.created` right after commit.
 */
export async function sendMessage(ctx: CoreContext, actorId: string, input: SendInput): Promise<SendResult> {
  const { text, kind, clientMsgId } = checkSendInput(ctx, input);
  const { membership } = await accessChat(ctx, actorId, input.chatId);
  const { rateLimitMessages, rateLimitWindowMs } = ctx.settings;
  if (rateLimitMessages > 0 && !(await ctx.limiter.hit(`send:${actorId}`, rateLimitMessages, rateLimitWindowMs, ctx.clock.now()))) {
    throw new ChatError('rate_limited');
  }
  const replyTo = input.replyTo ?? null;
  if (replyTo !== null) {
    const target = await ctx.store.getMessage(replyTo);
    if (!target || target.chatId !== input.chatId) throw badRequest('replyTo must name a message of the same chat');
  }
  const sender = await ctx.users.get(actorId);
  if (!sender) throw new ChatError('unauthorized', 'Unknown user');
  const meta = { chatType: membership.type, sender: senderProfile(sender) };
  const result = await ctx.writer.append({ chatId: input.chatId, senderId: actorId, text, kind, replyTo, clientMsgId }, meta);
  if (result.created) return result;
  return { ...result, replay: messageCreated(result.message, meta, Date.now()) };
}

/** Moves the actor's read cursor to the newest message and tells the chat. */
export async function markRead(ctx: CoreContext, actorId: string, chatId: number): Promise<{ readSeq: number }> {
  const { membership } = await accessChat(ctx, actorId, chatId);
  const chat = await ctx.store.getChat(chatId);
  const readSeq = chat?.lastSeq ?? 0;
  await ctx.store.advanceRead({ chatId, userId: actorId, seq: readSeq });
  const user = await ctx.users.get(actorId);
  publishEvent(ctx.broker, { type: 'receipt.read', chatId, userId: actorId, username: user?.username ?? null, readSeq });
  return { readSeq };
}

/** Ephemeral: never stored; a `true` expires by itself after the typing TTL. */
export async function setTyping(ctx: CoreContext, actorId: string, chatId: number, isTyping: unknown): Promise<void> {
  if (typeof isTyping !== 'boolean') throw badRequest('is_typing must be a boolean');
  const { membership } = await accessChat(ctx, actorId, chatId);
  const user = await ctx.users.get(actorId);
  const publish = (value: boolean): void =>
    publishEvent(ctx.broker, { type: 'typing', chatId, userId: actorId, username: user?.username ?? null, isTyping: value });
  // Large groups: thinned out (TypingTimers explains how); a client sees fewer `true`s, never a lone `false`.
  const large = isLargeGroup(ctx, membership);
  if (isTyping) {
    ctx.typing.start(chatId, actorId, () => {
      if (!large || ctx.typing.endLarge(chatId, actorId)) publish(false);
    });
    if (large && !ctx.typing.admitLargeStart(chatId, actorId, ctx.clock.now(), { everyMs: ctx.settings.largeGroupTypingMs, typistsPerSecond: ctx.settings.largeGroupTypistsPerSecond })) return;
  } else {
    ctx.typing.stop(chatId, actorId);
    if (large && !ctx.typing.endLarge(chatId, actorId)) return;
  }
  publish(isTyping);
}
