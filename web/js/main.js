// The entry point: sign-in and sign-out, the live socket's lifecycle, and wiring the page.
import { api, onUnauthorized } from './api.js';
import { closeChat, loadOlder, loadPresence, maybeMarkRead, openChat, refreshChats, sync } from './chats.js';
import { autosize, noteTyping, saveDraft, sendText, stopTyping, submitComposer } from './composer.js';
import { clearDrafts } from './drafts.js';
import { cancelEdit, confirmDelete, editLast, isEditing } from './editing.js';
import { closeMenu, wireMessageMenu } from './message-menu.js';
import { clearSearch, wireSearch } from './search.js';
import { askForNotifications, canAskForNotifications, onNotificationClick } from './notify.js';
import { addMember, changeMembers, createGroup, openDialog, showMembers, startPrivateChat, uploadAvatar } from './dialogs.js';
import { Live } from './live.js';
import { clearTyping, onFrame } from './live-events.js';
import { clearSession, getSession, onSessionChangedElsewhere, saveSession } from './session.js';
import { nameOf, peerOf, resetState, state } from './state.js';
import { $, errorText, formError, OFFLINE_TEXT, renderAll, runtime, setConnStatus, toast } from './ui.js';
import { atBottom, fillAvatar, renderJump, renderNoChat, renderTitle, scrollToBottom, view } from './views.js';

const LIST_REFRESH_MS = 20000;

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
  renderTitle();
  $('enable-notifications').hidden = !canAskForNotifications();
  renderNoChat();
  const live = new Live(() => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws?token=${encodeURIComponent(getSession()?.token ?? '')}`);
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
  runtime.live = live;
  live.start();
  try {
    await refreshChats();
  } catch (err) {
    toast(errorText(err));
  }
  const wanted = /^#\/chat\/(\d+)$/.exec(location.hash)?.[1];
  if (wanted && state.chats.has(wanted)) openChat(wanted, { focus: false });
  loadPresence([...state.chats.values()].map(peerOf).filter(Boolean)).then(renderAll);
  runtime.listTimer = setInterval(() => {
    if (document.visibilityState === 'visible') refreshChats().catch(() => {});
  }, LIST_REFRESH_MS);
}

function signOut({ here = true } = {}) {
  // Logging out here forgets this account's drafts; a sign-out seen from another tab already did.
  if (here && state.me) clearDrafts(state.me.id);
  runtime.live?.stop();
  runtime.live = null;
  clearInterval(runtime.listTimer);
  if (here) clearSession();
  closeMenu({ restoreFocus: false });
  cancelEdit({ focus: false });
  clearSearch();
  resetState();
  view.chatId = null;
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
  $('logout').addEventListener('click', () => signOut());
  onSessionChangedElsewhere((session) => {
    if (state.me && (!session || session.user.id !== state.me.id)) signOut({ here: false });
    else if (!state.me && session) enterApp(session);
  });
  $('enable-notifications').addEventListener('click', async () => {
    await askForNotifications();
    $('enable-notifications').hidden = !canAskForNotifications();
  });
  onNotificationClick((id) => openChat(id));

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
    const chat = state.openId && state.chats.get(state.openId);
    if (remove && chat && confirm(`Remove ${nameOf(remove.dataset.remove)} from “${chat.name ?? 'the group'}”?`)) changeMembers('remove', remove.dataset.remove);
    if (e.target.closest('[data-leave]') && confirm('Leave this group?')) changeMembers('remove', state.me.id);
  });
  document.querySelectorAll('dialog [data-close]').forEach((b) => b.addEventListener('click', () => b.closest('dialog').close()));

  const input = $('composer-text');
  $('composer').addEventListener('submit', submitComposer);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submitComposer(e);
    else if (e.key === 'Escape' && isEditing()) {
      e.preventDefault();
      cancelEdit();
    } else if (e.key === 'Escape' && window.matchMedia('(max-width: 720px)').matches) closeChat();
    // Up in an empty composer edits the newest message of ours (as in Slack, Telegram, Zulip).
    else if (e.key === 'ArrowUp' && !input.value && !isEditing() && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && editLast()) e.preventDefault();
  });
  $('edit-cancel').addEventListener('click', () => cancelEdit());
  $('delete-confirm').addEventListener('click', confirmDelete);
  wireMessageMenu();
  wireSearch();
  input.addEventListener('input', () => {
    autosize();
    saveDraft();
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
  const scroller = $('scroller');
  scroller.addEventListener('scroll', () => {
    const chat = state.openId && state.chats.get(state.openId);
    if (!chat) return;
    view.stick = atBottom();
    if (view.stick) chat.newBelow = 0;
    renderJump(chat);
    maybeMarkRead();
    if (scroller.scrollTop < 80) loadOlder(chat);
  });
  $('jump-new').addEventListener('click', () => {
    const chat = state.openId && state.chats.get(state.openId);
    scrollToBottom();
    if (chat) {
      chat.newBelow = 0;
      renderJump(chat);
    }
    maybeMarkRead();
  });
  // The composer growing or the window narrowing shrinks the view from below: the newest
  // message stays in sight when the reader was following it.
  const follow = new ResizeObserver(() => {
    if (view.stick && state.openId) scroller.scrollTop = scroller.scrollHeight;
  });
  follow.observe(scroller);
  follow.observe($('messages'));
  document.addEventListener('visibilitychange', () => {
    maybeMarkRead();
    if (document.visibilityState === 'visible' && runtime.live) refreshChats().catch(() => {});
  });
  window.addEventListener('focus', maybeMarkRead);
  window.addEventListener('offline', () => setConnStatus(OFFLINE_TEXT));
  window.addEventListener('online', () => {
    setConnStatus(state.connected ? null : 'Connection lost — reconnecting…');
    // The socket may have outlived the outage: catch up and resend what may not have gone out.
    if (state.connected) sync();
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
