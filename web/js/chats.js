// Chats and history: the list, paging, catch-up after a reconnect, read cursors, people.
import { api, ApiError } from './api.js';
import { loadDraft, resendPending, stopTyping } from './composer.js';
import { cancelEdit, onMessagesChanged } from './editing.js';
import { closeMenu } from './message-menu.js';
import { normalizeMessage } from './format.js';
import { addMessages, applyChange, lastSeq, noteRead, peerOf, state, upsertChat } from './state.js';
import { $, errorText, openChatVisible, renderAll, runtime, setConnStatus, toast } from './ui.js';
import { atBottom, renderChat, renderHeader, renderJump, renderList, renderMessages, renderNoChat, view } from './views.js';

const PAGE = 50;
const CHANGES_PAGE = 200;
let syncing = null;
const pendingUsers = new Map();

// ---------- users and presence ----------

/** Resolves names of user ids we have not seen, then re-renders; resolves once they are known. */
export function learnUsers(ids) {
  const missing = [...new Set(ids)].filter((id) => id && !state.users.has(id) && !pendingUsers.has(id) && id !== state.me?.id);
  for (const id of missing) {
    const p = api
      .user(id)
      .then((u) => state.users.set(id, { id, username: u.username ?? null, name: u.name ?? u.username ?? id }))
      .catch(() => state.users.set(id, { id, username: null, name: `User ${id}` }))
      .finally(() => pendingUsers.delete(id));
    pendingUsers.set(id, p);
  }
  const known = Promise.allSettled([...pendingUsers.values()]);
  if (missing.length) known.then(renderAll);
  return known;
}

export async function loadPresence(userIds) {
  await Promise.all(
    [...new Set(userIds)]
      .filter((id) => id && id !== state.me?.id)
      .map(async (id) => {
        try {
          const p = await api.presence(id);
          state.presence.set(id, { online: Boolean(p.online), lastSeen: typeof p.last_seen === 'number' ? p.last_seen * 1000 : null });
        } catch {
          // unknown or unreachable: leave it unknown
        }
      }),
  );
}

// ---------- chats and history ----------

/** Re-reads the chat list: new chats appear, removed ones go, counters and cursors refresh. */
export async function refreshChats() {
  const list = await api.chats();
  if (state.connected) setConnStatus(null);
  const seen = new Set();
  const added = [];
  for (const raw of list) {
    const known = state.chats.has(String(raw.id));
    const chat = upsertChat(raw);
    seen.add(chat.id);
    if (!known) added.push(chat);
  }
  // A chat someone else started: we had no presence for its peer yet (presence only flows between chat partners).
  const newPeers = added.map(peerOf).filter((id) => id && !state.presence.has(id));
  if (newPeers.length) loadPresence(newPeers).then(renderAll);
  for (const id of [...state.chats.keys()]) {
    if (!seen.has(id)) {
      state.chats.delete(id);
      if (state.openId === id) closeChat();
    }
  }
  const people = [...state.chats.values()].flatMap((c) => c.participants.map((p) => p.userId));
  learnUsers(people);
  renderAll();
  maybeMarkRead();
}

let refreshQueued = null;
export function scheduleRefresh() {
  refreshQueued ??= setTimeout(() => {
    refreshQueued = null;
    refreshChats().catch(() => {});
  }, 150);
}

/** The newest page of a chat, then older pages until we reach what we hold: nothing skipped. */
export async function catchUp(chat) {
  const since = lastSeq(chat);
  const fresh = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = (await api.messages(chat.id, PAGE, offset)).map((m) => normalizeMessage(m, chat.id));
    fresh.push(...page);
    const reached = page.some((m) => chat.ids.has(m.id) || (m.seq !== null && since > 0 && m.seq <= since));
    if (page.length < PAGE || reached) break;
    if (offset >= 20 * PAGE) {
      // Too far behind to stitch: start over from the newest page.
      chat.messages = [];
      chat.ids.clear();
      chat.hasMore = true;
      fresh.splice(0, fresh.length - PAGE);
      chat.changeCursor = maxChangeSeq(fresh);
      break;
    }
  }
  const added = addMessages(chat, fresh);
  await catchUpChanges(chat);
  // Pages and changes may both have brought deletes: an edit of a deleted message ends.
  onMessagesChanged();
  return added;
}

/**
 * Edits and deletes we missed (made while the socket was down) of messages we hold: the
 * changes after our cursor, page by page. Pages of history only refresh the messages they hold.
 */
async function catchUpChanges(chat) {
  for (let i = 0; i < 20; i += 1) {
    const page = await api.changes(chat.id, chat.changeCursor, CHANGES_PAGE);
    for (const raw of page.changes) applyChange(chat, normalizeMessage(raw, chat.id));
    if (typeof page.cursor === 'number' && page.cursor > chat.changeCursor) chat.changeCursor = page.cursor;
    if (page.changes.length < CHANGES_PAGE) return;
  }
}

/**
 * The change cursor a fresh newest page stands for. Every change after that page was read has a
 * higher change_seq than any in it, so asking after the page's highest misses nothing.
 */
function maxChangeSeq(messages) {
  return messages.reduce((max, m) => Math.max(max, m.changeSeq ?? 0), 0);
}

async function loadInitial(chat) {
  const page = (await api.messages(chat.id, PAGE, 0)).map((m) => normalizeMessage(m, chat.id));
  chat.changeCursor = Math.max(chat.changeCursor, maxChangeSeq(page));
  addMessages(chat, page);
  chat.hasMore = page.length === PAGE;
  chat.loaded = true;
  learnUsers(page.map((m) => m.senderId));
}

export async function loadOlder(chat, { render = true } = {}) {
  if (!chat.loaded || !chat.hasMore || chat.loadingOlder) return;
  chat.loadingOlder = true;
  try {
    // Offsets count back from the newest; we hold a contiguous run up to the newest.
    const page = (await api.messages(chat.id, PAGE, chat.messages.length)).map((m) => normalizeMessage(m, chat.id));
    addMessages(chat, page);
    chat.hasMore = page.length === PAGE;
    learnUsers(page.map((m) => m.senderId));
    if (render && state.openId === chat.id) renderMessages(chat);
  } catch (err) {
    toast(errorText(err));
  } finally {
    chat.loadingOlder = false;
  }
}

/**
 * After every (re)connect: the list, then what each loaded chat missed, then presence. A sync
 * asked for while one runs runs again after it, so a drop during a sync is caught up too.
 */
let syncAgain = false;
export function sync() {
  if (syncing) {
    syncAgain = true;
    return syncing;
  }
  syncing = (async () => {
    const started = Date.now();
    try {
      await refreshChats();
      for (const chat of state.chats.values()) {
        if (chat.loaded) await catchUp(chat);
      }
      // Sends that never came back while we were away go again, by themselves, with the same
      // client id: the server stores each once, however often it hears it.
      resendPending(started);
      const open = state.openId && state.chats.get(state.openId);
      const people = [...state.chats.values()].map(peerOf).filter(Boolean);
      if (open && open.type === 'group') people.push(...open.participants.map((p) => p.userId));
      await loadPresence(people);
      renderAll();
      maybeMarkRead();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) setConnStatus('Offline — retrying…');
    } finally {
      syncing = null;
      if (syncAgain) {
        syncAgain = false;
        sync();
      }
    }
  })();
  return syncing;
}

export async function openChat(id, { focus = true } = {}) {
  const chat = state.chats.get(id);
  if (!chat) return;
  const previous = state.openId && state.chats.get(state.openId);
  if (previous && previous !== chat) {
    stopTyping();
    leaveChat(previous);
  }
  const switched = state.openId !== id;
  if (switched) {
    closeMenu({ restoreFocus: false });
    cancelEdit({ focus: false });
  }
  state.openId = id;
  $('app-view').dataset.pane = 'chat';
  if (location.hash !== `#/chat/${id}`) history.replaceState(null, '', `#/chat/${id}`);
  if (switched) {
    loadDraft(chat);
    chat.divider = dividerOf(chat);
  }
  renderList();
  renderChat(chat, { position: 'open' });
  if (focus) $('composer-text').focus();
  // Until it is placed (at the first unread), a render meanwhile may show the bottom: no read mark.
  opening = chat;
  try {
    if (!chat.loaded) await loadInitial(chat);
    else await catchUp(chat);
    if (state.openId !== id) return;
    chat.divider ??= dividerOf(chat);
    await loadToDivider(chat);
  } catch (err) {
    toast(errorText(err));
  } finally {
    if (opening === chat) opening = null;
  }
  if (state.openId !== id) return;
  if (chat.type === 'group') loadPresence(chat.participants.map((p) => p.userId)).then(() => state.openId === id && renderHeader(chat));
  renderChat(chat, { position: 'open' });
  maybeMarkRead();
}

/**
 * Opens a chat scrolled to one message (a search result): older pages are loaded until it is
 * held, then it is centred and highlighted for a moment. Resolves false when it cannot be
 * found (the chat is gone, or the message is not in its history).
 */
export async function openChatAt(chatId, messageId) {
  if (!state.chats.has(chatId)) await refreshChats();
  const chat = state.chats.get(chatId);
  if (!chat) return false;
  await openChat(chatId, { focus: false });
  if (state.openId !== chatId || !chat.loaded) return false;
  for (let i = 0; i < 200 && !chat.ids.has(messageId) && chat.hasMore; i += 1) {
    const before = chat.messages.length;
    // A scroll may already be fetching the same page: wait for it instead of asking twice.
    if (chat.loadingOlder) await new Promise((resolve) => setTimeout(resolve, 50));
    else await loadOlder(chat, { render: false });
    if (!chat.loadingOlder && chat.messages.length === before && !chat.ids.has(messageId)) return false;
    if (state.openId !== chatId) return false;
  }
  if (!chat.ids.has(messageId)) return false;
  renderMessages(chat);
  const node = $('messages').querySelector(`[data-key="m:${CSS.escape(messageId)}"]`);
  if (!node) return false;
  const scroller = $('scroller');
  const top = node.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
  scroller.scrollTop = Math.max(0, top - (scroller.clientHeight - node.offsetHeight) / 2);
  view.stick = atBottom();
  renderJump(chat);
  node.classList.remove('flash');
  // Restarting the animation needs a reflow between removing and adding the class.
  void node.offsetWidth;
  node.classList.add('flash');
  setTimeout(() => node.classList.remove('flash'), 2500);
  // Focus goes to it, so a screen reader reads the result and the keyboard starts there.
  node.tabIndex = -1;
  node.focus({ preventScroll: true });
  return true;
}

/** Loads older pages until the first unread message is held (at most a few pages), to open there. */
async function loadToDivider(chat) {
  for (let i = 0; i < 4 && chat.divider !== null && chat.hasMore; i += 1) {
    const oldest = chat.messages[0]?.seq ?? null;
    if (oldest !== null && oldest <= chat.divider + 1) return;
    const before = chat.messages.length;
    await loadOlder(chat, { render: false });
    if (chat.messages.length === before) return;
  }
}

/** The "New messages" line goes after our read cursor when something by others is past it. */
function dividerOf(chat) {
  const mine = chat.readSeqs.get(state.me.id) ?? 0;
  return chat.messages.some((m) => m.seq !== null && m.seq > mine && m.senderId !== state.me.id) ? mine : null;
}

/** Leaving a chat: what was new has been seen (or skipped), so its divider goes. */
function leaveChat(chat) {
  chat.divider = null;
  chat.newBelow = 0;
}

export function closeChat() {
  stopTyping();
  closeMenu({ restoreFocus: false });
  cancelEdit({ focus: false });
  const chat = state.openId && state.chats.get(state.openId);
  if (chat) leaveChat(chat);
  state.openId = null;
  view.chatId = null;
  $('app-view').dataset.pane = 'list';
  history.replaceState(null, '', '#/');
  loadDraft(null);
  renderNoChat();
  renderList();
}

/** Something by someone else is past our read cursor (or the server counts it unread). */
export function needsRead(chat) {
  if (chat.unreadCount > 0) return true;
  const mine = chat.readSeqs.get(state.me.id) ?? 0;
  return chat.messages.some((m) => m.seq !== null && m.seq > mine && m.senderId !== state.me.id);
}

export function markRead(chat) {
  chat.unreadCount = 0;
  const seq = lastSeq(chat);
  if (seq) noteRead(chat, state.me.id, seq);
  if (!runtime.live?.send('read', { conversation_id: chat.id })) api.markRead(chat.id).catch(() => {});
  renderList();
}

/**
 * Whether the reader can see the newest message: the page is visible and focused, the chat
 * pane is shown, and the last message is inside the scroller's view. The server's read cursor
 * moves to the newest message, so only then may it move.
 */
function newestSeen() {
  if (!openChatVisible() || !document.hasFocus()) return false;
  const scroller = $('scroller');
  const messages = $('messages').querySelectorAll('.msg:not(.pending)');
  const last = messages[messages.length - 1];
  if (!last) return true;
  const box = scroller.getBoundingClientRect();
  const rect = last.getBoundingClientRect();
  return rect.top < box.bottom - 8 && rect.bottom > box.top;
}

let readTimer = null;
let opening = null;
/** Marks the open chat read if there is something to mark and the reader sees the newest message. */
export function maybeMarkRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    const chat = state.openId && state.chats.get(state.openId);
    if (chat && chat !== opening && chat.loaded && needsRead(chat) && newestSeen()) markRead(chat);
  }, 150);
}
