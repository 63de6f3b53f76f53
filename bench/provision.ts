import { SignJWT } from 'jose';
import { mapLimit, type Group, type Member } from './topology.js';

/**
 * Creates what a scenario needs through the public API only: users (a token's first
 * authenticated call provisions its user) and group chats (the `stomp` REST `POST /api/chats`,
 * else the `rooms` multipart `POST /api/v1/group`).
 */
export class Provisioner {
  private readonly key: Uint8Array;

  constructor(
    readonly baseUrl: string,
    secret: string,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** HS256, like the server's JWT_SECRET; iss/aud when the environment asks the server for them. */
  async token(sub: string): Promise<string> {
    let jwt = new SignJWT({ username: sub, name: `Bench ${sub}` }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('3h');
    if (process.env['JWT_ISSUER']) jwt = jwt.setIssuer(process.env['JWT_ISSUER']);
    if (process.env['JWT_AUDIENCE']) jwt = jwt.setAudience(process.env['JWT_AUDIENCE']);
    return jwt.sign(this.key);
  }

  async request(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }

  async provisionUsers(members: readonly Member[]): Promise<void> {
    await mapLimit(members, 16, async (m) => {
      const { status, json } = await this.request(m.token, 'GET', '/auth/whoami');
      if (status !== 200) throw new Error(`GET /auth/whoami for ${m.userId}: ${status} ${JSON.stringify(json)}`);
    });
  }

  /** Creates each group with its first member as owner; sets `group.chatId`. */
  async createGroups(groups: readonly Group[], label: string): Promise<string> {
    let route = 'POST /api/chats';
    await mapLimit(groups, 8, async (g) => {
      const owner = g.members[0]!;
      const others = g.members.slice(1).map((m) => m.userId);
      const name = `${label} ${g.index + 1}`;
      if (route === 'POST /api/chats') {
        const { status, json } = await this.request(owner.token, 'POST', '/api/chats', { type: 'group', name, participantIds: others });
        if (status === 201 || status === 200) {
          g.chatId = String((json as { id: string | number }).id);
          return;
        }
        if (status !== 404) throw new Error(`POST /api/chats: ${status} ${JSON.stringify(json)}`);
        route = 'POST /api/v1/group';
      }
      const form = new FormData();
      form.append('json', JSON.stringify({ name, description: 'bench', users: others.map((id) => ({ id, name: id })) }));
      const res = await fetch(`${this.baseUrl}/api/v1/group`, { method: 'POST', headers: { authorization: `Bearer ${owner.token}` }, body: form });
      const json = (await res.json().catch(() => null)) as { group?: { id: number } } | null;
      if (!res.ok || !json?.group) throw new Error(`POST /api/v1/group: ${res.status} ${JSON.stringify(json)}; no group route answered`);
      g.chatId = String(json.group.id);
    });
    return route;
  }

  /**
   * id -> seq of every message of a chat, through the `hub` REST history (the one REST shape
   * that shows `seq`), paged 200 at a time from the newest.
   */
  async seqById(token: string, chatId: string): Promise<Map<number, number> | null> {
    const map = new Map<number, number>();
    for (let offset = 0; ; offset += 200) {
      const { status, json } = await this.request(token, 'GET', `/api/v1/chat/conversations/${chatId}/messages?limit=200&offset=${offset}`);
      if (status !== 200) return null;
      const messages = (json as { messages?: { id: string | number; seq?: number }[] }).messages ?? [];
      for (const m of messages) {
        if (typeof m.seq !== 'number') return null;
        map.set(Number(m.id), m.seq);
      }
      if (messages.length < 200) return map;
    }
  }
}
