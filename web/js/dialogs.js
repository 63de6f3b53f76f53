// The dialogs: start a private chat, create a group, members (add, remove, leave, picture).
import { api, ApiError } from './api.js';
import { closeChat, learnUsers, loadPresence, openChat } from './chats.js';
import { bump, noteSystem, state, upsertChat } from './state.js';
import { $, errorText, formError, renderAll, toast } from './ui.js';
import { renderMembers } from './views.js';

export function openDialog(id) {
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

export async function startPrivateChat(event) {
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

export async function createGroup(event) {
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

export function showMembers() {
  const chat = state.openId && state.chats.get(state.openId);
  if (!chat) return;
  renderMembers(chat);
  openDialog('members-dialog');
  loadPresence(chat.participants.map((p) => p.userId)).then(() => $('members-dialog').open && renderMembers(chat));
}

export async function changeMembers(action, userId) {
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

export async function addMember(event) {
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

export async function uploadAvatar(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const file = form.elements.avatar.files?.[0];
  const chat = state.openId && state.chats.get(state.openId);
  if (!file || !chat) return;
  // A good upload after a refused one must not leave the old error standing.
  formError($('members-dialog'), '');
  try {
    const { avatarUrl } = await api.uploadAvatar(chat.id, file);
    // The live `conversation_updated` may have told us first; one system line either way.
    if (chat.avatarUrl !== avatarUrl) noteSystem(chat, { kind: 'picture', actorId: state.me.id });
    chat.avatarUrl = avatarUrl;
    form.reset();
    renderAll();
    toast('Group picture updated');
  } catch (err) {
    formError($('members-dialog'), errorText(err));
  }
}
