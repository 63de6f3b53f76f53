import type { Message } from '../../domain/message.js';
import type { AppendResult, NewMessage } from '../../ports/store.js';

/**
 * The engine-independent half of `appendMessages`: a retry that appears twice in one batch is
 * written once (the later copies resolve to the first), and the results are assembled in
 * input order from what the engine reports. Both engines build the stored `Message` from the
 * input and the few columns the database chose (id, seq) instead of reading the rows back.
 */
export class AppendPlan {
  /** The distinct messages to write, in input order. */
  readonly unique: NewMessage[] = [];
  /** For each input index, its index in `unique`. */
  private readonly slot: number[] = [];
  private readonly results: (AppendResult | undefined)[];

  constructor(
    batch: readonly NewMessage[],
    private readonly now: number,
  ) {
    const firstByClientId = new Map<string, number>();
    for (const input of batch) {
      if (input.clientMsgId !== null) {
        const key = `${input.chatId}\u0000${input.senderId}\u0000${input.clientMsgId}`;
        const first = firstByClientId.get(key);
        if (first !== undefined) {
          this.slot.push(first);
          continue;
        }
        firstByClientId.set(key, this.unique.length);
      }
      this.slot.push(this.unique.length);
      this.unique.push(input);
    }
    this.results = new Array<AppendResult | undefined>(this.unique.length);
  }

  /** A message of `unique` was stored earlier under the same client id. */
  existing(uniqueIndex: number, message: Message): void {
    this.results[uniqueIndex] = { message, created: false };
  }

  /** A message of `unique` was stored now with the database's id and seq. */
  inserted(uniqueIndex: number, id: number, seq: number): void {
    const input = this.unique[uniqueIndex]!;
    this.results[uniqueIndex] = {
      message: {
        id,
        chatId: input.chatId,
        senderId: input.senderId,
        text: input.text,
        seq,
        kind: input.kind,
        replyTo: input.replyTo,
        clientMsgId: input.clientMsgId,
        createdAt: this.now,
        editedAt: null,
        deletedAt: null,
      },
      created: true,
    };
  }

  /** Results in input order; a duplicate within the batch reports the first copy, not created. */
  finish(): AppendResult[] {
    const seen = new Set<number>();
    return this.slot.map((u) => {
      const result = this.results[u];
      if (!result) throw new Error('append result missing');
      if (seen.has(u)) return { message: result.message, created: false };
      seen.add(u);
      return result;
    });
  }
}
