// The client's model: chats with their loaded messages, known users, presence, receipts.
// Pure data operations only; rendering and I/O live in the other modules.
import { compareMessages } from './format.js';

export const state = {
  /** @type {{id: string, username: string|null, name: string|null} | null} */
  me: null,
  /** @type {Map<string, Chat>} */
  chats: new Map(),
  /** @type {Map<string, {id: string, username: string|null, name: string}>} */
  users: new Map(),
  /** @type {Map<string, {online: boolean, lastSeen: number|null}>} */
  presence: new Map(),
  /** @type {string|null} */
  openId: null,
  /** Whether the live socket is open (presence and typing are only known while it is). */
  connected: false,
};

/**
 * @typedef {object} Chat
 * @property {string} id
 * @property {'private'|'group'} type
 * @property {string|null} name
 * @property {string|null} avatarUrl
 * @property {{userId: string, role: string, readSeq?: number}[]} participants
 * @property {number} unreadCount
 * @property {number} updatedAt ms
 * @property {{id: string, text: string, senderId: string, at: number|null, seq: number|null} | null} lastMessage
 * @property {object[]} messages loaded messages, oldest first, contiguous up to the newest
 * @property {Set<string>} ids ids of the loaded messages (de-duplication)
 * @property {boolean} loaded
 * @property {boolean} hasMore older messages exist on the server
 * @property {Map<string, number>} readSeqs read cursor per member
 * @property {Map<string, number>} typing user id -> expiry timer
 * @property {{tempId: string, clientMsgId: string, text: string, at: number, failed: string|null}[]} pending sends not yet echoed
 * @property {{key: string, afterSeq: number, at: number, actorId: string, kind: string, userIds: string[], name?: string|null}[]} system
 *   changes seen live in this chat ("Alice removed Bob"), placed after the message with `afterSeq`
 * @property {number|null} divider the "New messages" line goes after this seq (null: none)
 * @property {number} newBelow messages that arrived below the reader's view (the "↓ N new" button)
 * @property {number} changeCursor edits/deletes up to this change_seq are reflected in `messages`
 *   (catch-up asks for the changes after it)
 */

/** Creates or refreshes a chat from a `stomp` REST chat object, keeping what was loaded locally. */
export function upsertChat(raw) {
  const id = String(raw.id);
  let chat = state.chats.get(id);
  if (!chat) {
    chat = {
      id,
      type: raw.type,
      name: null,
      avatarUrl: null,
      participants: [],
      unreadCount: 0,
      updatedAt: 0,
      lastMessage: null,
      messages: [],
      ids: new Set(),
      loaded: false,
      hasMore: true,
      readSeqs: new Map(),
      typing: new Map(),
      pending: [],
      system: [],
      divider: null,
      newBelow: 0,
      changeCursor: 0,
    };
    state.chats.set(id, chat);
  }
  chat.type = raw.type;
  chat.name = raw.name ?? null;
  chat.avatarUrl = raw.avatarUrl ?? null;
  chat.participants = (raw.participants ?? []).map((p) => ({ ...p, userId: String(p.userId) }));
  chat.unreadCount = typeof raw.unreadCount === 'number' ? raw.unreadCount : chat.unreadCount;
  const updated = Date.parse(raw.updatedAt ?? raw.createdAt ?? '');
  if (Number.isFinite(updated)) chat.updatedAt = Math.max(chat.updatedAt, updated);
  if (raw.lastMessage) {
    const lm = raw.lastMessage;
    const known = chat.lastMessage;
    if (!known || known.id === String(lm.id) || Number(lm.id) > Number(known.id)) {
      // A stored text is never blank, so an empty one is a deleted message's tombstone.
      const text = String(lm.content ?? '');
      chat.lastMessage = { id: String(lm.id), text, senderId: String(lm.senderId), at: known?.id === String(lm.id) ? known.at : null, seq: typeof lm.seq === 'number' ? lm.seq : (known?.seq ?? null), deleted: text === '' };
    }
  }
  for (const p of chat.participants) {
    if (typeof p.readSeq === 'number') noteRead(chat, p.userId, p.readSeq);
  }
  if (chat.type === 'private') {
    const peer = peerOf(chat);
    if (peer && chat.name && !state.users.has(peer)) state.users.set(peer, { id: peer, username: null, name: chat.name });
  }
  return chat;
}

/** The other member of a private chat. */
export function peerOf(chat) {
  if (chat.type !== 'private') return null;
  return chat.participants.find((p) => p.userId !== state.me?.id)?.userId ?? null;
}

export function myRole(chat) {
  return chat.participants.find((p) => p.userId === state.me?.id)?.role ?? null;
}

/** Only the author edits a message (the server says the same; this only hides what would be refused). */
export function canEdit(chat, m) {
  return !m.deleted && m.senderId === state.me?.id;
}

/** The author deletes, and in a group so do its owner and admins. */
export function canDelete(chat, m) {
  if (m.deleted) return false;
  if (m.senderId === state.me?.id) return true;
  const role = myRole(chat);
  return chat.type === 'group' && (role === 'owner' || role === 'admin');
}

export function noteRead(chat, userId, seq) {
  if ((chat.readSeqs.get(userId) ?? 0) < seq) chat.readSeqs.set(userId, seq);
}

/** Adds messages, skipping ids already there; returns the ones that were new, in order. */
export function addMessages(chat, messages) {
  const fresh = [];
  for (const m of messages) {
    if (chat.ids.has(m.id)) {
      const known = chat.messages.find((k) => k.id === m.id);
      // A copy from another path may know the seq the first one lacked, or a newer edit.
      if (known && known.seq === null && m.seq !== null) known.seq = m.seq;
      if (known) applyChange(chat, m);
      continue;
    }
    chat.ids.add(m.id);
    chat.messages.push(m);
    fresh.push(m);
  }
  if (fresh.length) chat.messages.sort(compareMessages);
  for (const m of fresh) {
    if (m.senderId === state.me?.id) resolvePending(chat, m);
    noteLast(chat, m);
  }
  return fresh;
}

/** Keeps `lastMessage` on the newest message we know of. */
export function noteLast(chat, m) {
  const last = chat.lastMessage;
  const newer = !last || (m.seq !== null && last.seq !== null ? m.seq >= last.seq : Number(m.id) >= Number(last.id));
  if (newer) chat.lastMessage = { id: m.id, text: m.text, senderId: m.senderId, at: m.at, seq: m.seq, deleted: Boolean(m.deleted) };
}

/**
 * An edit or delete of a message: `change` is `{id, text?, editedAt?, deleted?, changeSeq}`.
 * Applied only when newer than what we hold (events, catch-up and history pages overlap, in any
 * order). Returns the message when it changed, else null. Messages not loaded are left alone:
 * a page loaded later brings their current state.
 */
export function applyChange(chat, change) {
  const last = chat.lastMessage;
  if (last && last.id === change.id && !last.deleted) {
    if (change.deleted) Object.assign(last, { text: '', deleted: true });
    else if (typeof change.text === 'string' && change.editedAt) last.text = change.text;
  }
  const m = chat.ids.has(change.id) ? chat.messages.find((k) => k.id === change.id) : null;
  if (!m || m.deleted || (change.changeSeq ?? 0) <= (m.changeSeq ?? 0)) return null;
  m.changeSeq = change.changeSeq;
  if (change.deleted) {
    m.deleted = true;
    m.text = '';
  } else if (typeof change.text === 'string') {
    m.text = change.text;
    m.editedAt = change.editedAt ?? m.editedAt ?? Date.now();
  }
  return m;
}

/** The newest seq we hold for a chat (catch-up starts after it). */
export function lastSeq(chat) {
  let seq = 0;
  for (const m of chat.messages) if (m.seq !== null && m.seq > seq) seq = m.seq;
  return seq;
}

/** Our own echoed message replaces its pending send (by client id, else the oldest with its text). */
function resolvePending(chat, m) {
  let i = m.clientMsgId ? chat.pending.findIndex((p) => p.clientMsgId === m.clientMsgId) : -1;
  if (i < 0) i = chat.pending.findIndex((p) => p.text === m.text);
  if (i >= 0) chat.pending.splice(i, 1);
}

/** Moves a chat to the top of the list: its activity is the newest we have seen. */
export function bump(chat, at) {
  let top = 0;
  for (const c of state.chats.values()) if (c !== chat && c.updatedAt > top) top = c.updatedAt;
  chat.updatedAt = Math.max(chat.updatedAt, at ?? 0, top + 1);
}

export function sortedChats() {
  return [...state.chats.values()].sort((a, b) => b.updatedAt - a.updatedAt || Number(b.id) - Number(a.id));
}

/** Whether every other member (private) or at least one (group) has read message `m`. */
export function readState(chat, m) {
  if (m.seq === null) return { read: false, readers: 0, others: 0 };
  const others = chat.participants.filter((p) => p.userId !== state.me?.id);
  const readers = others.filter((p) => (chat.readSeqs.get(p.userId) ?? 0) >= m.seq).length;
  return { read: chat.type === 'private' ? others.length > 0 && readers === others.length : readers > 0, readers, others: others.length };
}

/** Total unread messages over every chat (the tab title shows it). */
export function totalUnread() {
  let n = 0;
  for (const chat of state.chats.values()) n += chat.unreadCount;
  return n;
}

/** Records a live chat change as a system line in the chat. */
export function noteSystem(chat, entry) {
  chat.system.push({ key: `s${chat.system.length}:${Date.now()}`, afterSeq: Math.max(lastSeq(chat), chat.lastMessage?.seq ?? 0), at: Date.now(), userIds: [], ...entry });
}

export function nameOf(userId) {
  if (userId === state.me?.id) return 'You';
  const user = state.users.get(userId);
  return user?.name || user?.username || `User ${userId}`;
}

export function resetState() {
  for (const chat of state.chats.values()) for (const t of chat.typing.values()) clearTimeout(t);
  state.me = null;
  state.chats.clear();
  state.users.clear();
  state.presence.clear();
  state.openId = null;
  state.connected = false;
}
