import type { ChatType, Member } from '../../domain/chat.js';
import type { ChatSummary } from '../../domain/chat-summary.js';
import { ChatError, notFound } from '../../domain/errors.js';
import type { User } from '../../domain/user.js';
import { accessChat } from '../access/access-chat.js';
import type { CoreContext } from '../core-context.js';

export async function listChats(
  ctx: CoreContext,
  actorId: string,
  page: { limit: number | null; offset: number },
  filter?: { type?: ChatType },
): Promise<ChatSummary[]> {
  // MAX_PAGE_CHATS: a list never answers more rows than this, whatever the dialect asked for.
  const max = ctx.settings.maxPageChats;
  return ctx.store.listChatSummaries(actorId, { limit: Math.min(page.limit ?? max, max), offset: page.offset }, filter);
}

/** One chat as a list row, for the caller (who must be a member). */
export async function getChatSummary(ctx: CoreContext, actorId: string, chatId: number): Promise<ChatSummary> {
  await accessChat(ctx, actorId, chatId);
  const [summary] = await ctx.store.listChatSummaries(actorId, { limit: 1, offset: 0 }, { chatId });
  if (!summary) throw new ChatError('chat_not_found');
  return summary;
}

export interface MemberView {
  readonly member: Member;
  readonly user: User;
}

export async function listMembers(ctx: CoreContext, actorId: string, chatId: number): Promise<MemberView[]> {
  await accessChat(ctx, actorId, chatId);
  const members = await ctx.store.listMembers(chatId);
  const users = await ctx.users.getMany(members.map((m) => m.userId));
  return members.flatMap((member) => {
    const user = users.get(member.userId);
    return user ? [{ member, user }] : [];
  });
}

/** The private chat between the caller and another user, if it exists. */
export async function findPrivateChatId(ctx: CoreContext, actorId: string, otherId: string): Promise<number | undefined> {
  const chat = await ctx.store.findPrivateChat(actorId, otherId);
  return chat?.id;
}

export async function getUser(ctx: CoreContext, id: string): Promise<User> {
  const user = await ctx.users.get(id);
  if (!user) throw notFound('User not found');
  return user;
}

export async function usersById(ctx: CoreContext, ids: readonly string[]): Promise<Map<string, User>> {
  return ctx.users.getMany(ids);
}

