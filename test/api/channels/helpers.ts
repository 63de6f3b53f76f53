import { JsonSocket } from '../../support/ws-client.js';
import { tokenFor, type TestServer } from '../../support/test-server.js';

export interface ChannelsUser {
  readonly id: string;
  readonly token: string;
  readonly username: string;
}

let next = 0;
/** A user as an external identity provider issues it (numeric `sub` unless `sub` says otherwise). */
export async function makeUser(t: TestServer, claims: Record<string, unknown> = {}, sub?: string): Promise<ChannelsUser> {
  const id = sub ?? String(5000 + ++next);
  const username = typeof claims['username'] === 'string' ? claims['username'] : `chan_${id}`;
  const token = await tokenFor(id, { username, ...claims });
  await t.server.core.authenticate(token);
  return { id, token, username };
}

/** A group owned by `owner` with `others` in it, made through the core (another path than this dialect). */
export async function makeGroup(t: TestServer, owner: ChannelsUser, others: readonly ChannelsUser[]): Promise<number> {
  const chat = await t.server.core.createGroup(owner.id, { name: `group ${++next}`, memberIds: others.map((u) => u.id) });
  return chat.id;
}

export type Carrier = 'header' | 'token' | 'access_token' | 'none';

export function chatUrl(t: TestServer, chatId: number | string, token?: string, carrier: Carrier = 'token', slash = true): string {
  const base = `${t.wsUrl}/ws/chat/${chatId}${slash ? '/' : ''}`;
  if (!token || carrier === 'header' || carrier === 'none') return base;
  return `${base}?${carrier}=${encodeURIComponent(token)}`;
}

/** Opens a socket the way a browser would (token in the query) and waits for `connection_established`. */
export async function connect(t: TestServer, chatId: number, user: ChannelsUser, carrier: Carrier = 'token', slash = true): Promise<JsonSocket> {
  const socket = await JsonSocket.open(chatUrl(t, chatId, user.token, carrier, slash), carrier === 'header' ? { token: user.token } : {});
  await socket.next((f) => f.type === 'connection_established');
  return socket;
}

/** Opens a socket that the server is expected to close; resolves with the close and every frame seen. */
export async function refused(url: string, token?: string): Promise<{ code: number; reason: string; frames: unknown[] }> {
  const socket = await JsonSocket.open(url, token ? { token } : {});
  const { code, reason } = await socket.closed();
  return { code, reason, frames: socket.frames };
}

export const isMessage = (text: string) => (f: any): boolean => f.type === 'message' && f.data?.text === text;
export const isError = (message: string) => (f: any): boolean => f.type === 'error' && f.message === message;
