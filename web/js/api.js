// REST calls: built-in accounts (/auth), the `stomp` dialect's chats API (/api/chats),
// `hub` presence, edit/delete and search, and the user lookups. JSON in and out; errors become ApiError.
import { getSession } from './session.js';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let unauthorized = () => {};
/** Called once a request with our token is refused with 401 (expired or revoked token). */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

async function request(method, path, body, { auth = true } = {}) {
  const headers = { accept: 'application/json' };
  const session = getSession();
  if (auth && session) headers.authorization = `Bearer ${session.token}`;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, 'Network error: the server cannot be reached');
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && auth) unauthorized();
    throw new ApiError(res.status, (data && typeof data.error === 'string' && data.error) || `Request failed (${res.status})`);
  }
  return data;
}

const enc = encodeURIComponent;

export const api = {
  register: (input) => request('POST', '/auth/register', input, { auth: false }),
  login: (input) => request('POST', '/auth/login', input, { auth: false }),
  whoami: () => request('GET', '/auth/whoami'),

  chats: () => request('GET', '/api/chats'),
  chat: (chatId) => request('GET', `/api/chats/${enc(chatId)}`),
  messages: (chatId, limit, offset) => request('GET', `/api/chats/${enc(chatId)}/messages?limit=${limit}&offset=${offset}`),
  send: (chatId, text, clientMessageId) => request('POST', `/api/chats/${enc(chatId)}/messages`, { content: text, clientMessageId }),
  markRead: (chatId) => request('POST', `/api/chats/${enc(chatId)}/messages/read`),
  openPrivate: (userId) => request('POST', `/api/chats/personal/${enc(userId)}`),
  createGroup: (name, participantIds) => request('POST', '/api/chats', { type: 'group', name, participantIds }),
  participants: (chatId, action, userId) => request('PUT', `/api/chats/${enc(chatId)}/participants`, { action, userId }),
  uploadAvatar: (chatId, file) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return request('POST', `/api/chats/${enc(chatId)}/avatar`, form);
  },

  /** Edit/delete catch-up: messages whose latest change is after `after` (stomp shape). */
  changes: (chatId, after, limit) => request('GET', `/api/chats/${enc(chatId)}/changes?after=${after}&limit=${limit}`),
  editMessage: (chatId, messageId, body) => request('PATCH', `/api/v1/chat/conversations/${enc(chatId)}/messages/${enc(messageId)}`, { body }),
  deleteMessage: (chatId, messageId) => request('DELETE', `/api/v1/chat/conversations/${enc(chatId)}/messages/${enc(messageId)}`),
  search: (q, limit, offset) => request('GET', `/api/v1/chat/search?q=${enc(q)}&limit=${limit}&offset=${offset}`),

  presence: (userId) => request('GET', `/api/v1/chat/presence/${enc(userId)}`),
  userByUsername: (username) => request('GET', `/api/users/by-username/${enc(username)}`),
  user: (userId) => request('GET', `/api/users/${enc(userId)}`),
};
