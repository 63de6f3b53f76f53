import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { TestServer } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';

/** A real `socket.io-client` socket that records every `new_message` it receives. */
export interface TestSocket {
  readonly socket: Socket;
  readonly received: any[];
  /** Emits with an acknowledgement and resolves with the server's answer. */
  call(event: string, ...args: unknown[]): Promise<any>;
  /** Waits for a `new_message` matching `predicate`. */
  nextMessage(predicate: (m: any) => boolean, what?: string): Promise<any>;
  close(): void;
}

type Options = Partial<ManagerOptions & SocketOptions>;

/** Opens a socket and resolves once connected; rejects with the `connect_error`. */
export function openSocket(t: TestServer, options: Options): Promise<Socket> {
  const socket = io(t.url, { forceNew: true, reconnection: false, ...options });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

export async function connect(t: TestServer, token: string, options: Options = {}): Promise<TestSocket> {
  const socket = await openSocket(t, { auth: { token }, transports: ['websocket'], ...options });
  const received: any[] = [];
  socket.on('new_message', (m: unknown) => received.push(m));
  return {
    socket,
    received,
    call: (event, ...args) => socket.timeout(10_000).emitWithAck(event, ...args),
    nextMessage: (predicate, what = 'new_message') => waitFor(() => received.find(predicate), 5000, what),
    close: () => socket.close(),
  };
}

/** The error a refused connection reports (`connect_error`), or null when it connected. */
export async function refusal(t: TestServer, options: Options): Promise<Error | null> {
  try {
    const socket = await openSocket(t, options);
    socket.close();
    return null;
  } catch (err) {
    return err as Error;
  }
}
