export interface Message {
  readonly id: number;
  readonly chatId: number;
  readonly senderId: string;
  readonly text: string;
  /** 1, 2, 3 … within the chat, gapless, in commit order. */
  readonly seq: number;
  /** Free-form kind a dialect may carry (the `stomp` seed's `TEXT`). */
  readonly kind: string;
  readonly replyTo: number | null;
  readonly clientMsgId: string | null;
  readonly createdAt: number;
  readonly editedAt: number | null;
  readonly deletedAt: number | null;
  /**
   * The chat's change cursor at this message's latest edit or delete (0: never changed).
   * Per chat, increasing in commit order: catch-up asks for changes after the highest it saw.
   */
  readonly changeSeq: number;
}
