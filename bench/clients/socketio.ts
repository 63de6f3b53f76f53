import { io, type Socket } from 'socket.io-client';
import type { Member } from '../topology.js';
import { withTimeout, type Connection, type Driver, type Receiver } from './driver.js';

interface Ack {
  success?: boolean;
  error?: string;
}

interface WireMessage {
  id?: string;
  text?: string;
  seq?: number;
}

interface Flavor {
  readonly name: string;
  readonly auth: (member: Member) => Record<string, string>;
  /** Whether `new_message` carries the room's `seq` (the naive reference's does). */
  readonly inlineSeq: boolean;
}

const polychat: Flavor = { name: 'socketio', auth: (m) => ({ token: m.token }), inlineSeq: false };
const naive: Flavor = { name: 'naive', auth: (m) => ({ user: m.userId }), inlineSeq: true };

function open(baseUrl: string, member: Member, receiver: Receiver, chatId: string | null, flavor: Flavor): Promise<Connection> {
  // WebSocket transport only: long-polling first (the client default) would double the
  // handshake work for 1000 clients and measure the upgrade dance rather than the chat.
  const socket: Socket = io(baseUrl, { transports: ['websocket'], auth: flavor.auth(member), forceNew: true, reconnection: false, timeout: 15_000 });
  const what = `${flavor.name} ${member.userId}`;
  let ready = false;
  const connection: Connection = {
    send(text) {
      socket.emit('send_message', { chatId, text }, (ack: Ack) => {
        receiver.frame();
        if (!ack?.success) receiver.error(member, `send_message: ${ack?.error}`);
      });
    },
    close() {
      socket.disconnect();
    },
    get open() {
      return socket.connected;
    },
  };
  socket.onAny(() => receiver.frame());
  socket.on('new_message', (message: WireMessage) => {
    if (typeof message?.text !== 'string') return;
    const seq = flavor.inlineSeq && typeof message.seq === 'number' ? message.seq : null;
    receiver.deliver(member, message.text, message.id === undefined ? null : Number(message.id), seq);
  });
  const opened = new Promise<Connection>((resolve, reject) => {
    socket.on('connect', () => {
      if (chatId === null) {
        ready = true;
        resolve(connection);
        return;
      }
      socket.emit('join_chat', { chatId }, (ack: Ack) => {
        if (ack?.success) {
          ready = true;
          resolve(connection);
        } else reject(new Error(`${what}: join_chat ${ack?.error}`));
      });
    });
    socket.on('connect_error', (err) => {
      if (!ready) reject(new Error(`${what}: ${err.message}`));
    });
    socket.on('disconnect', (reason) => {
      if (ready && reason !== 'io client disconnect') receiver.error(member, `disconnected: ${reason}`);
    });
  });
  return withTimeout(opened, 20_000, what).catch((err: unknown) => {
    socket.disconnect();
    throw err;
  });
}

/** `socketio`: `socket.io-client` over the websocket transport, `join_chat` then `send_message`. */
export const socketioDriver: Driver = {
  name: 'socketio',
  inlineSeq: false,
  connect: (baseUrl, member, group, receiver) => open(baseUrl, member, receiver, group.chatId, polychat),
  connectIdle: (baseUrl, member, receiver) => open(baseUrl, member, receiver, null, polychat),
};

/** `bench/naive-reference-server.ts`: the same client; no token (the user is named in `auth`), `seq` on the wire. */
export const naiveDriver: Driver = {
  name: 'naive',
  inlineSeq: true,
  connect: (baseUrl, member, group, receiver) => open(baseUrl, member, receiver, group.chatId, naive),
  connectIdle: (baseUrl, member, receiver) => open(baseUrl, member, receiver, null, naive),
};
