import type { Group, Member } from '../topology.js';

/** Where a driver reports what its connections receive. */
export interface Receiver {
  /** A chat message reached `member`; `msgId`/`seq` when the wire shows them. */
  deliver(member: Member, text: string, msgId: number | null, seq: number | null): void;
  /** An error frame / failed ack / unexpected close on `member`'s connection. */
  error(member: Member, what: string): void;
  /** One frame (WebSocket message, Socket.IO packet) arrived, whatever it holds. */
  frame(): void;
}

export interface Connection {
  /** Fire and forget: the open-loop sender never waits for an answer. */
  send(text: string): void;
  close(): void;
  readonly open: boolean;
}

/** One dialect's client side, as lean as the protocol allows (1000+ clients in one process). */
export interface Driver {
  readonly name: string;
  /** Whether message events carry the per-chat `seq` (else it is checked via REST history). */
  readonly inlineSeq: boolean;
  /** Opens `member`'s connection to its group's chat; resolves when it can send and receive. */
  connect(baseUrl: string, member: Member, group: Group, receiver: Receiver): Promise<Connection>;
  /** An authenticated connection in no chat (idle scenarios). */
  connectIdle?(baseUrl: string, member: Member, receiver: Receiver): Promise<Connection>;
}

export function wsUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/^http/, 'ws') + path;
}

/** Rejects a connect promise that takes too long, so a stuck handshake cannot hang a scenario. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
