import type { Chat } from '../../domain/chat.js';
import { badRequest } from '../../domain/errors.js';
import type { CoreContext } from '../core-context.js';
import { openPrivateChat } from './chats.js';
import { checkSendInput, sendMessage, type SendInput, type SendResult } from './messages.js';

/**
 * A message to a user rather than to a chat: opens (or finds) the private chat, then sends.
 * The send's own fields are checked first, so a refused send leaves no new chat behind.
 */
export async function sendDirect(ctx: CoreContext, actorId: string, otherId: string, input: Omit<SendInput, 'chatId'>): Promise<SendResult & { chat: Chat }> {
  checkSendInput(ctx, input);
  const { chat } = await openPrivateChat(ctx, actorId, otherId);
  return { ...(await sendMessage(ctx, actorId, { ...input, chatId: chat.id })), chat };
}

/**
 * A private chat named by its participant list (the caller may or may not list itself, and
 * may repeat ids): exactly one other participant, else a 400.
 */
export function openPrivateChatAmong(ctx: CoreContext, actorId: string, participantIds: readonly string[]): Promise<{ chat: Chat; created: boolean }> {
  const others = [...new Set(participantIds)].filter((id) => id !== actorId);
  if (others.length !== 1) throw badRequest('A private chat needs exactly one other participant');
  return openPrivateChat(ctx, actorId, others[0]!);
}
