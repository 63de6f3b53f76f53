import type { ChatCore } from '../../core/chat-core.js';
import type { ChatSummary } from '../../domain/chat-summary.js';
import { displayName, type User } from '../../domain/user.js';
import { wireMessage, wireUserRef, type WireAuthor, type WireMessage } from './rooms-wire.js';

/** The seed's ChatRoom model. */
export interface WireRoom {
  readonly id: number;
  readonly name: string;
  readonly type: 'private' | 'group';
  readonly last_message: WireMessage | null;
}

/**
 * Renders chat-list rows: a group is named by its name, a private chat by the other member's
 * display name; `last_message` is the seed's Message model or null.
 */
export async function roomViews(core: ChatCore, actorId: string, summaries: readonly ChatSummary[]): Promise<(WireRoom & { users?: WireAuthor[] })[]> {
  const privateMembers = new Map<number, User[]>();
  await Promise.all(
    summaries
      .filter((s) => s.chat.type === 'private')
      .map(async (s) => {
        try {
          privateMembers.set(
            s.chat.id,
            (await core.listMembers(actorId, s.chat.id)).map((m) => m.user),
          );
        } catch {
          // The chat changed between the list and this lookup: the row keeps its stored name.
        }
      }),
  );
  const senderIds = [...new Set(summaries.flatMap((s) => (s.lastMessage ? [s.lastMessage.senderId] : [])))];
  const senders = senderIds.length > 0 ? await core.usersById(senderIds) : new Map<string, User>();
  return summaries.map(({ chat, lastMessage }) => {
    const members = privateMembers.get(chat.id);
    const other = members?.find((u) => u.id !== actorId);
    const name = chat.type === 'private' ? (other ? displayName(other) : (chat.name ?? '')) : (chat.name ?? '');
    const sender = lastMessage ? senders.get(lastMessage.senderId) : undefined;
    return {
      id: chat.id,
      name,
      type: chat.type,
      last_message: lastMessage ? wireMessage(lastMessage, sender ? displayName(sender) : lastMessage.senderId) : null,
      ...(members ? { users: members.map(wireUserRef) } : {}),
    };
  });
}
