// The controller: sign-in, the live socket, catch-up after reconnects, and the user's actions.
import { api, ApiError, onUnauthorized } from './api.js';
import { codePoints, normalizeMessage } from './format.js';
import { Live } from './live.js';
import { clearSession, getSession, saveSession } from './session.js';
import { addMessages, bump, lastSeq, noteRead, peerOf, resetState, state, upsertChat } from './state.js';
import { fillAvatar, renderChat, renderHeader, renderList, renderMembers, renderMessages, renderNoChat, renderTyping } from './views.js';

const $ = (id) => document.getElementById(id);
const PAGE = 50;
const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOW_MS = 7000;
const LIST_REFRESH_MS = 20000;
const MAX_TEXT = 1000;

let live = null;
let listTimer = null;
let syncing = null;
const pendingUsers = new Map();

// ---------- small UI helpers ----------

let toastTimer = null;
function toast(message) {
  const node = $('toast');
  node.textContent = message;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (node.hidden = true), 4000);
}

function formError(form, message) {
  const node = form.querySelector('.form-error');
  if (node) node.textContent = message ?? '';
}

const errorText = (err) => (err instanceof ApiError ? err.message : 'Something went wrong');

function openChatVisible() {
  if (!state.openId || document.visibilityState !== 'visible') return false;
  const narrow = window.matchMedia('(max-width: 720px)').matches;
  return !narrow || $('app-view').dataset.pane === 'chat';
}

function setConnStatus(text) {
  const node = $('conn-status');
  node.textContent = text ?? '';
  node.hidden = !text;
}

function renderOpen(options) {
  const chat = state.openId ? state.chats.get(state.openId) : null;
  if (chat) renderChat(chat, options);
}

function renderAll() {
  renderList();
  renderOpen();
}

// ---------- users and presence ----------

/** Resolves names of user ids we have not seen, then re-renders. */
function learnUsers(ids) {
  const missing = [...new Set(ids)].filter((id) => id && !state.users.has(id) && !pendingUsers.has(id) && id !== state.me?.id);
  for (const id of missing) {
    const p = api
      .user(id)
      .then((u) => state.users.set(id, { id, username: u.username ?? null, name: u.name ?? u.username ?? id }))
      .catch(() => state.users.set(id, { id, username: null, name: `User ${id}` }))
      .finally(() => pendingUsers.delete(id));
    pendingUsers.set(id, p);
  }
  if (missing.length) Promise.allSettled([...pendingUsers.values()]).then(renderAll);
}

async function loadPresence(userIds) {
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
async function refreshChats() {
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
  const open = state.openId && state.chats.get(state.openId);
  if (open && needsRead(open) && openChatVisible()) markRead(open);
  renderAll();
}

let refreshQueued = null;
function scheduleRefresh() {
  refreshQueued ??= setTimeout(() => {
    refreshQueued = null;
    refreshChats().catch(() => {});
  }, 150);
}

/** The newest page of a chat, then older pages until we reach what we hold: nothing skipped. */
async function catchUp(chat) {
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
      break;
    }
  }
  return addMessages(chat, fresh);
}

async function loadInitial(chat) {
  const page = (await api.messages(chat.id, PAGE, 0)).map((m) => normalizeMessage(m, chat.id));
  addMessages(chat, page);
  chat.hasMore = page.length === PAGE;
  chat.loaded = true;
  learnUsers(page.map((m) => m.senderId));
}

async function loadOlder(chat) {
  if (!chat.loaded || !chat.hasMore || chat.loadingOlder) return;
  chat.loadingOlder = true;
  try {
    // Offsets count back from the newest; we hold a contiguous run up to the newest.
    const page = (await api.messages(chat.id, PAGE, chat.messages.length)).map((m) => normalizeMessage(m, chat.id));
    addMessages(chat, page);
    chat.hasMore = page.length === PAGE;
    learnUsers(page.map((m) => m.senderId));
    if (state.openId === chat.id) renderMessages(chat);
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
function sync() {
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
        // Sends that never came back while the socket was down are marked for a retry.
        for (const p of chat.pending) if (!p.failed && p.at < started) p.failed = 'connection lost';
      }
      const open = state.openId && state.chats.get(state.openId);
      const people = [...state.chats.values()].map(peerOf).filter(Boolean);
      if (open && open.type === 'group') people.push(...open.participants.map((p) => p.userId));
      await loadPresence(people);
      if (open && openChatVisible() && needsRead(open)) markRead(open);
      renderAll();
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

async function openChat(id, { focus = true } = {}) {
  const chat = state.chats.get(id);
  if (!chat) return;
  if (state.openId && state.openId !== id) stopTyping();
  state.openId = id;
  $('app-view').dataset.pane = 'chat';
  if (location.hash !== `#/chat/${id}`) history.replaceState(null, '', `#/chat/${id}`);
  renderList();
  renderChat(chat, { forceBottom: true });
  if (focus) $('composer-text').focus();
  try {
    if (!chat.loaded) await loadInitial(chat);
    else await catchUp(chat);
  } catch (err) {
    toast(errorText(err));
  }
  if (state.openId !== id) return;
  if (chat.type === 'group') loadPresence(chat.participants.map((p) => p.userId)).then(() => state.openId === id && renderHeader(chat));
  renderChat(chat, { forceBottom: true });
  if (openChatVisible() && needsRead(chat)) markRead(chat);
}

function closeChat() {
  stopTyping();
  state.openId = null;
  $('app-view').dataset.pane = 'list';
  history.replaceState(null, '', '#/');
  renderNoChat();
  renderList();
}

/** Something by someone else is past our read cursor (or the server counts it unread). */
function needsRead(chat) {
  if (chat.unreadCount > 0) return true;
  const mine = chat.readSeqs.get(state.me.id) ?? 0;
  return chat.messages.some((m) => m.seq !== null && m.seq > mine && m.senderId !== state.me.id);
}

function markRead(chat) {
  chat.unreadCount = 0;
  const seq = lastSeq(chat);
  if (seq) noteRead(chat, state.me.id, seq);
  if (!live?.send('read', { conversation_id: chat.id })) api.markRead(chat.id).catch(() => {});
  renderList();
}

let readTimer = null;
function markReadSoon(chat) {
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    if (state.openId === chat.id && openChatVisible()) markRead(chat);
  }, 200);
}

// ---------- sending and typing ----------

let typingSentAt = 0;
let typingChat = null;
function noteTyping() {
  const chat = state.openId;
  if (!chat) return;
  const text = $('composer-text').value;
  if (!text.trim()) return stopTyping();
  if (typingChat === chat && Date.now() - typingSentAt < TYPING_SEND_EVERY_MS) return;
  if (live?.send('typing', { conversation_id: chat, is_typing: true })) {
    typingChat = chat;
    typingSentAt = Date.now();
  }
}

function stopTyping() {
  if (!typingChat) return;
  live?.send('typing', { conversation_id: typingChat, is_typing: false });
  typingChat = null;
  typingSentAt = 0;
}

let tempCounter = 0;
async function sendText(chat, text, existing) {
  const pending = existing ?? { tempId: `t${++tempCounter}`, text, at: Date.now(), failed: null };
  pending.failed = null;
  pending.at = Date.now();
  if (!existing) chat.pending.push(pending);
  if (live?.send('message', { conversation_id: chat.id, body: text })) {
    // The socket echoes it to every device of ours; that echo replaces the pending bubble.
    renderOpen({ forceBottom: true });
    return;
  }
  renderOpen({ forceBottom: true });
  try {
    const sent = normalizeMessage(await api.send(chat.id, text), chat.id);
    addMessages(chat, [sent]);
    chat.pending = chat.pending.filter((p) => p !== pending);
    bump(chat, sent.at);
  } catch (err) {
    pending.failed = errorText(err);
  }
  renderAll();
}

function submitComposer(event) {
  event.preventDefault();
  const chat = state.openId && state.chats.get(state.openId);
  const input = $('composer-text');
  const text = input.value;
  if (!chat || !text.trim()) return;
  if (codePoints(text) > MAX_TEXT) {
    toast(`A message can be at most ${MAX_TEXT} characters`);
    return;
  }
  stopTyping();
  input.value = '';
  autosize();
  sendText(chat, text);
}

function autosize() {
  const input = $('composer-text');
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

// ---------- live events ----------

function onFrame(frame) {
  const data = frame.data ?? {};
  switch (frame.type) {
    case 'message': {
      const m = normalizeMessage(data);
      const chat = state.chats.get(m.chatId);
      if (!chat) return scheduleRefresh();
      const isNew = !chat.ids.has(m.id);
      if (chat.loaded) addMessages(chat, [m]);
      else if (isNew) {
        const lm = chat.lastMessage;
        if (!lm || lm.id !== m.id) chat.lastMessage = { id: m.id, text: m.text, senderId: m.senderId, at: m.at, seq: m.seq };
      }
      if (!isNew) break;
      bump(chat, m.at);
      if (m.senderId !== state.me.id) {
        clearTyping(chat, m.senderId);
        learnUsers([m.senderId]);
        if (state.openId === chat.id && openChatVisible()) markReadSoon(chat);
        else chat.unreadCount += 1;
      } else {
        // Read on another device, or just written here: nothing of ours is unread before it.
        chat.unreadCount = 0;
      }
      renderList();
      if (state.openId === chat.id) renderMessages(chat);
      break;
    }
    case 'typing': {
      const chat = state.chats.get(String(data.conversation_id));
      const userId = String(data.user_id);
      if (!chat || userId === state.me.id) return;
      if (data.is_typing) {
        clearTimeout(chat.typing.get(userId));
        chat.typing.set(userId, setTimeout(() => clearTyping(chat, userId), TYPING_SHOW_MS));
        learnUsers([userId]);
      } else {
        clearTyping(chat, userId, false);
      }
      renderList();
      if (state.openId === chat.id) renderTyping(chat);
      break;
    }
    case 'presence': {
      const userId = String(data.user_id);
      state.presence.set(userId, { online: Boolean(data.online), lastSeen: typeof data.last_seen === 'number' ? data.last_seen * 1000 : null });
      renderList();
      const open = state.openId && state.chats.get(state.openId);
      if (open) renderHeader(open);
      break;
    }
    case 'read': {
      const chat = state.chats.get(String(data.conversation_id));
      if (!chat || typeof data.read_seq !== 'number') return;
      const userId = String(data.user_id);
      noteRead(chat, userId, data.read_seq);
      if (userId === state.me.id) chat.unreadCount = 0;
      renderList();
      if (state.openId === chat.id) renderMessages(chat);
      break;
    }
    case 'error': {
      const message = String(data.error ?? 'Error');
      const chat = state.openId && state.chats.get(state.openId);
      const pending = chat?.pending.find((p) => !p.failed);
      if (pending) pending.failed = message;
      toast(message);
      renderOpen();
      break;
    }
    default:
      break;
  }
}

function clearTyping(chat, userId, render = true) {
  clearTimeout(chat.typing.get(userId));
  if (!chat.typing.delete(userId) || !render) return;
  renderList();
  if (state.openId === chat.id) renderTyping(chat);
}

// ---------- sign in / out ----------

function showAuth() {
  $('app-view').hidden = true;
  $('auth-view').hidden = false;
  document.title = 'polychat — sign in';
  selectTab('login');
}

async function enterApp(session) {
  state.me = session.user;
  $('auth-view').hidden = true;
  $('app-view').hidden = false;
  const myName = session.user.name || session.user.username || session.user.id;
  $('me-name').textContent = myName;
  fillAvatar($('me-avatar'), myName, session.user.id, null);
  document.title = `polychat — ${myName}`;
  renderNoChat();
  live = new Live(() => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws?token=${encodeURIComponent(getSession()?.token ?? '')}`);
  live.addEventListener('frame', (e) => onFrame(e.detail));
  live.addEventListener('open', () => {
    state.connected = true;
    setConnStatus(null);
    renderAll();
    sync();
  });
  live.addEventListener('down', (e) => {
    state.connected = false;
    setConnStatus('Connection lost — reconnecting…');
    // Typing and presence go stale while we hear nothing; the next sync reloads presence.
    for (const chat of state.chats.values()) for (const id of [...chat.typing.keys()]) clearTyping(chat, id, false);
    state.presence.clear();
    renderAll();
    // An upgrade refused again and again may be an expired token: ask REST, which signs us out on 401.
    if (e.detail.failures >= 2) api.whoami().catch(() => {});
  });
  live.start();
  try {
    await refreshChats();
  } catch (err) {
    toast(errorText(err));
  }
  const wanted = /^#\/chat\/(\d+)$/.exec(location.hash)?.[1];
  if (wanted && state.chats.has(wanted)) openChat(wanted, { focus: false });
  loadPresence([...state.chats.values()].map(peerOf).filter(Boolean)).then(renderAll);
  listTimer = setInterval(() => {
    if (document.visibilityState === 'visible') refreshChats().catch(() => {});
  }, LIST_REFRESH_MS);
}

function signOut() {
  live?.stop();
  live = null;
  clearInterval(listTimer);
  clearSession();
  resetState();
  history.replaceState(null, '', '#/');
  $('composer-text').value = '';
  showAuth();
}

async function submitAuth(form, call) {
  formError(form, '');
  const data = Object.fromEntries(new FormData(form));
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const input = { password: data.password };
    if (form.id === 'register-form') Object.assign(input, { username: data.username.trim(), ...(data.name?.trim() ? { name: data.name.trim() } : {}) });
    else if (String(data.username).includes('@')) input.email = data.username.trim();
    else input.username = data.username.trim();
    const res = await call(input);
    saveSession(res.accessToken, res.user);
    form.reset();
    await enterApp(getSession());
  } catch (err) {
    formError(form, errorText(err));
  } finally {
    button.disabled = false;
  }
}

function selectTab(which) {
  const login = which === 'login';
  $('tab-login').setAttribute('aria-selected', String(login));
  $('tab-register').setAttribute('aria-selected', String(!login));
  $('tab-login').tabIndex = login ? 0 : -1;
  $('tab-register').tabIndex = login ? -1 : 0;
  $('login-form').hidden = !login;
  $('register-form').hidden = login;
  (login ? $('login-form') : $('register-form')).querySelector('input').focus();
}

// ---------- dialogs ----------

function openDialog(id) {
  const dialog = $(id);
  dialog.querySelectorAll('.form-error').forEach((n) => (n.textContent = ''));
  dialog.showModal();
  dialog.querySelector('input')?.focus();
}

async function lookup(username) {
  try {
    return await api.userByUsername(username);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) throw new ApiError(404, `No user named “${username}”`);
    throw err;
  }
}

async function startPrivateChat(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const username = form.elements.username.value.trim().replace(/^@/, '');
  if (!username) return;
  formError(form, '');
  try {
    const user = await lookup(username);
    if (user.id === state.me.id) throw new ApiError(400, 'That is you — pick someone else');
    state.users.set(user.id, { id: user.id, username: user.username, name: user.name });
    const chat = upsertChat(await api.openPrivate(user.id));
    form.reset();
    $('new-chat-dialog').close();
    loadPresence([user.id]).then(renderAll);
    await openChat(chat.id);
  } catch (err) {
    formError(form, errorText(err));
  }
}

async function createGroup(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const name = form.elements.name.value.trim();
  const usernames = [...new Set(form.elements.members.value.split(/[\s,;]+/).map((u) => u.trim().replace(/^@/, '')).filter(Boolean))];
  if (!name) return;
  formError(form, '');
  try {
    const users = await Promise.all(usernames.map(lookup));
    for (const u of users) state.users.set(u.id, { id: u.id, username: u.username, name: u.name });
    const chat = upsertChat(await api.createGroup(name, users.map((u) => u.id).filter((id) => id !== state.me.id)));
    bump(chat, Date.now());
    form.reset();
    $('new-group-dialog').close();
    await openChat(chat.id);
  } catch (err) {
    formError(form, errorText(err));
  }
}

function showMembers() {
  const chat = state.openId && state.chats.get(state.openId);
  if (!chat) return;
  renderMembers(chat);
  openDialog('members-dialog');
  loadPresence(chat.participants.map((p) => p.userId)).then(() => $('members-dialog').open && renderMembers(chat));
}

async function changeMembers(action, userId) {
  const chat = state.openId && state.chats.get(state.openId);
  const dialog = $('members-dialog');
  if (!chat) return;
  formError(dialog, '');
  try {
    const updated = await api.participants(chat.id, action, userId);
    if (action === 'remove' && userId === state.me.id) {
      dialog.close();
      state.chats.delete(chat.id);
      closeChat();
      return;
    }
    upsertChat(updated);
    learnUsers(chat.participants.map((p) => p.userId));
    renderMembers(chat);
    renderAll();
  } catch (err) {
    formError(dialog, errorText(err));
  }
}

async function addMember(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const username = form.elements.username.value.trim().replace(/^@/, '');
  if (!username) return;
  try {
    const user = await lookup(username);
    state.users.set(user.id, { id: user.id, username: user.username, name: user.name });
    await changeMembers('add', user.id);
    form.reset();
  } catch (err) {
    formError($('members-dialog'), errorText(err));
  }
}

async function uploadAvatar(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const file = form.elements.avatar.files?.[0];
  const chat = state.openId && state.chats.get(state.openId);
  if (!file || !chat) return;
  try {
    const { avatarUrl } = await api.uploadAvatar(chat.id, file);
    chat.avatarUrl = avatarUrl;
    form.reset();
    renderAll();
    toast('Group picture updated');
  } catch (err) {
    formError($('members-dialog'), errorText(err));
  }
}

// ---------- wiring ----------

function wire() {
  onUnauthorized(() => {
    if (getSession()) {
      signOut();
      formError($('login-form'), 'Your session has ended — please sign in again.');
    }
  });
  $('tab-login').addEventListener('click', () => selectTab('login'));
  $('tab-register').addEventListener('click', () => selectTab('register'));
  for (const tab of [$('tab-login'), $('tab-register')]) {
    tab.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') selectTab(tab.id === 'tab-login' ? 'register' : 'login');
    });
  }
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    submitAuth(e.currentTarget, api.login);
  });
  $('register-form').addEventListener('submit', (e) => {
    e.preventDefault();
    submitAuth(e.currentTarget, api.register);
  });
  $('logout').addEventListener('click', signOut);

  $('chat-list').addEventListener('click', (e) => {
    const button = e.target.closest('[data-chat-id]');
    if (button) openChat(button.dataset.chatId);
  });
  $('back').addEventListener('click', closeChat);
  $('new-chat').addEventListener('click', () => openDialog('new-chat-dialog'));
  $('new-group').addEventListener('click', () => openDialog('new-group-dialog'));
  $('members').addEventListener('click', showMembers);
  $('new-chat-form').addEventListener('submit', startPrivateChat);
  $('new-group-form').addEventListener('submit', createGroup);
  $('add-member-form').addEventListener('submit', addMember);
  $('avatar-form').addEventListener('submit', uploadAvatar);
  $('member-list').addEventListener('click', (e) => {
    const remove = e.target.closest('[data-remove]');
    if (remove) changeMembers('remove', remove.dataset.remove);
    if (e.target.closest('[data-leave]') && confirm('Leave this group?')) changeMembers('remove', state.me.id);
  });
  document.querySelectorAll('dialog [data-close]').forEach((b) => b.addEventListener('click', () => b.closest('dialog').close()));

  const input = $('composer-text');
  $('composer').addEventListener('submit', submitComposer);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submitComposer(e);
    if (e.key === 'Escape' && window.matchMedia('(max-width: 720px)').matches) closeChat();
  });
  input.addEventListener('input', () => {
    autosize();
    noteTyping();
  });
  input.addEventListener('blur', stopTyping);
  $('messages').addEventListener('click', (e) => {
    const retry = e.target.closest('[data-retry]');
    const chat = state.openId && state.chats.get(state.openId);
    const pending = chat?.pending.find((p) => p.tempId === retry?.dataset.retry);
    if (pending) sendText(chat, pending.text, pending);
  });
  $('load-older').addEventListener('click', () => {
    const chat = state.openId && state.chats.get(state.openId);
    if (chat) loadOlder(chat);
  });
  $('scroller').addEventListener('scroll', () => {
    const chat = state.openId && state.chats.get(state.openId);
    if (chat && $('scroller').scrollTop < 80) loadOlder(chat);
  });
  document.addEventListener('visibilitychange', () => {
    const chat = state.openId && state.chats.get(state.openId);
    if (chat && needsRead(chat) && openChatVisible()) markRead(chat);
    if (document.visibilityState === 'visible' && live) refreshChats().catch(() => {});
  });
  window.addEventListener('hashchange', () => {
    const id = /^#\/chat\/(\d+)$/.exec(location.hash)?.[1];
    if (id && id !== state.openId && state.chats.has(id)) openChat(id);
    else if (!id && state.openId) closeChat();
  });
}

wire();
const session = getSession();
if (session) enterApp(session);
else showAuth();

// For tests and debugging in the console: a read-only peek at the state.
window.polychat = { state };
