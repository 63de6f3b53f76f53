import { ChatError } from '../../domain/errors.js';
import type { Message } from '../../domain/message.js';
import { accessChat, canManage, type ChatAccess } from '../access/access-chat.js';
import type { CoreContext } from '../core-context.js';
import { checkMessageText } from '../text-rules.js';
import { senderProfile } from '../user-directory.js';

// Message-level refusals have reasons of their own (`message_not_found`, `not_yours`), so a
// dialect whose chat-level 403/404 means "no access to the chat" (a close, a generic ack) can
// still tell them apart.
const messageNotFound = (): ChatError => new ChatError('message_not_found');

export interface ChangeTarget {
  /** The chat the client names; undefined when its wire names only the message (`socketio`). */
  readonly chatId: number | undefined;
  readonly messageId: number;
}

/**
 * Membership first (unknown chat 404, not a member 403, as everywhere), then the message: one
 * of another chat, unknown or already deleted is 404 alike.
 */
async function locate(ctx: CoreContext, actorId: string, target: ChangeTarget): Promise<{ access: ChatAccess; message: Message }> {
  let chatId = target.chatId;
  let message: Message | undefined;
  if (chatId === undefined) {
    message = await ctx.store.getMessage(target.messageId);
    if (!message) throw messageNotFound();
    chatId = message.chatId;
  }
  const access = await accessChat(ctx, actorId, chatId);
  message ??= await ctx.store.getMessage(target.messageId);
  if (!message || message.chatId !== chatId || message.deletedAt !== null) throw messageNotFound();
  return { access, message };
}

/** Only the author edits, under the same text rules (and rate limit) as a send. */
export async function editMessage(ctx: CoreContext, actorId: string, target: ChangeTarget, rawText: unknown): Promise<Message> {
  const text = checkMessageText(rawText, ctx.settings.maxMessageLength);
  const { access, message } = await locate(ctx, actorId, target);
  if (message.senderId !== actorId) throw new ChatError('not_yours', 'Only the author can edit a message');
  const { rateLimitMessages, rateLimitWindowMs } = ctx.settings;
  if (rateLimitMessages > 0 && !(await ctx.limiter.hit(`send:${actorId}`, rateLimitMessages, rateLimitWindowMs, ctx.clock.now()))) {
    throw new ChatError('rate_limited');
  }
  const author = await ctx.users.get(actorId);
  if (!author) throw new ChatError('unauthorized', 'Unknown user');
  // Deleted between the read and this write: the store changes nothing.
  const edited = await ctx.store.editMessage(message.chatId, message.id, text, ctx.clock.now());
  if (!edited) throw messageNotFound();
  ctx.broker.publish({
    type: 'message.updated',
    chatId: edited.chatId,
    chatType: access.membership.type,
    memberIds: access.membership.memberIds,
    message: edited,
    sender: senderProfile(author),
  });
  return edited;
}

/** The author deletes; in a group so do its owner and admins. The tombstone keeps id and seq. */
export async function deleteMessage(ctx: CoreContext, actorId: string, target: ChangeTarget): Promise<Message> {
  const { access, message } = await locate(ctx, actorId, target);
  const moderator = access.membership.type === 'group' && canManage(access.role);
  if (message.senderId !== actorId && !moderator) throw new ChatError('not_yours', 'Only the author or a group owner/admin can delete a message');
  const deleted = await ctx.store.deleteMessage(message.chatId, message.id, ctx.clock.now());
  if (!deleted) throw messageNotFound();
  ctx.broker.publish({
    type: 'message.deleted',
    chatId: deleted.chatId,
    chatType: access.membership.type,
    memberIds: access.membership.memberIds,
    message: deleted,
    actorId,
  });
  return deleted;
}
