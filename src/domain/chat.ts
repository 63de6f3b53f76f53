export type ChatType = 'private' | 'group';
export type Role = 'owner' | 'admin' | 'member';

export interface Chat {
  readonly id: number;
  readonly type: ChatType;
  readonly name: string | null;
  readonly description: string | null;
  readonly avatarUrl: string | null;
  readonly createdAt: number;
  /** Time of the last message or change: chat lists are ordered by it. */
  readonly updatedAt: number;
  /** The seq of the newest message (0 when empty). */
  readonly lastSeq: number;
}

export interface Member {
  readonly chatId: number;
  readonly userId: string;
  readonly role: Role;
  readonly joinedAt: number;
  /** Receipt cursors: every message with seq ≤ cursor is delivered / read for this member. */
  readonly deliveredSeq: number;
  readonly readSeq: number;
}
