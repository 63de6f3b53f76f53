import type { Chat, ChatType } from './chat.js';
import type { Message } from './message.js';
import type { User } from './user.js';

/**
 * Everything the core announces after a commit. Events are plain JSON (they cross Redis) and
 * carry no list of recipients: each is published on the topics it concerns (`chat:<id>` for
 * what happens in a chat, `user:<id>` for what concerns one user; `core/event-topics.ts`), and
 * every instance's registry delivers it to its local sessions of that chat's members, from its
 * own chat → sessions index. So the size of an event, and the work of sending it, do not grow
 * with the members of a chat. Only the rare membership events (`chat.created`,
 * `members.added`, `members.removed`) carry the membership, because the `hub` dialect renders it.
 */
export type DomainEvent =
  | MessageCreated
  | MessageUpdated
  | MessageDeleted
  | ChatCreated
  | ChatUpdated
  | ChatDeleted
  | MembersAdded
  | MembersRemoved
  | TypingChanged
  | PresenceChanged
  | MessagesRead
  | MessagesDelivered
  | SessionClaimed;

/** Profile fields every dialect renders for a sender, carried so that fan-out needs no lookup. */
export type SenderProfile = Pick<User, 'id' | 'username' | 'name' | 'firstName' | 'lastName' | 'email'>;

export interface MessageCreated {
  readonly type: 'message.created';
  readonly chatId: number;
  readonly chatType: ChatType;
  readonly message: Message;
  readonly sender: SenderProfile;
  /** Wall-clock ms at commit, for fan-out latency metrics. */
  readonly committedAt: number;
}

/** The author changed a message's text; `message` is the stored message after the edit. */
export interface MessageUpdated {
  readonly type: 'message.updated';
  readonly chatId: number;
  readonly chatType: ChatType;
  readonly message: Message;
  /** The author (only the author edits). */
  readonly sender: SenderProfile;
}

/** A message was deleted; `message` is the tombstone (same id and seq, text erased). */
export interface MessageDeleted {
  readonly type: 'message.deleted';
  readonly chatId: number;
  readonly chatType: ChatType;
  readonly message: Message;
  /** The author, or the group owner/admin who deleted it. */
  readonly actorId: string;
}

export interface ChatCreated {
  readonly type: 'chat.created';
  readonly chatId: number;
  readonly chat: Chat;
  /** Every member (the creator included): published on each one's user topic, rendered by `hub`. */
  readonly memberIds: readonly string[];
  readonly actorId: string;
}

export interface ChatUpdated {
  readonly type: 'chat.updated';
  readonly chatId: number;
  readonly chat: Chat;
  readonly actorId: string;
}

export interface ChatDeleted {
  readonly type: 'chat.deleted';
  readonly chatId: number;
  readonly actorId: string;
}

export interface MembersAdded {
  readonly type: 'members.added';
  readonly chatId: number;
  readonly chat: Chat;
  readonly userIds: readonly string[];
  /** Members after the change (the added ones included). */
  readonly memberIds: readonly string[];
  readonly actorId: string;
}

export interface MembersRemoved {
  readonly type: 'members.removed';
  readonly chatId: number;
  readonly userIds: readonly string[];
  /** Members after the change: the removed ones are no longer in it. */
  readonly memberIds: readonly string[];
  readonly actorId: string;
}

export interface TypingChanged {
  readonly type: 'typing';
  readonly chatId: number;
  readonly userId: string;
  readonly username: string | null;
  readonly isTyping: boolean;
}

export interface PresenceChanged {
  readonly type: 'presence';
  readonly userId: string;
  readonly online: boolean;
  /** Unix ms of the last connection's close; null while online and never seen offline. */
  readonly lastSeen: number | null;
  /**
   * The user's chats: the event is published on each one's topic (and the user's own), so it
   * reaches the instances of everyone sharing a chat with the user; `stomp` announces it per chat.
   */
  readonly chatIds: readonly number[];
}

export interface MessagesRead {
  readonly type: 'receipt.read';
  readonly chatId: number;
  readonly userId: string;
  readonly username: string | null;
  readonly readSeq: number;
}

export interface MessagesDelivered {
  readonly type: 'receipt.delivered';
  readonly chatId: number;
  /** One entry per message newly delivered to a user. */
  readonly entries: readonly { readonly userId: string; readonly messageId: number; readonly seq: number }[];
}

/**
 * A live connection claimed an exclusive slot (`channels`: one connection per user per chat).
 * Not a change of the domain: the session registries of every instance use it so the newest
 * connection wins across instances too; no session's `handle` ever sees it.
 */
export interface SessionClaimed {
  readonly type: 'session.claimed';
  readonly userId: string;
  readonly dialect: string;
  /** What is exclusive within the user's connections of that dialect (e.g. `chat:12`). */
  readonly key: string;
  readonly sessionId: string;
  /** Wall-clock ms of the claim on its instance; the later claim wins (ties: the greater session id). */
  readonly at: number;
}

export type DomainEventType = DomainEvent['type'];
