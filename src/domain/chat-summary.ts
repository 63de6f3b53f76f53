import type { Chat, Member } from './chat.js';
import type { Message } from './message.js';

/** One row of a user's chat list: the chat, the caller's membership, the newest message. */
export interface ChatSummary {
  readonly chat: Chat;
  readonly member: Member;
  readonly lastMessage: Message | null;
  /** Messages by others with seq > the caller's read cursor. */
  readonly unreadCount: number;
}
