// Editing and deleting messages. An edit happens in the composer (like the big messengers):
// the bar above it says what is edited, Enter saves, Escape or Cancel gives the draft back.
// A delete asks first in a dialog. Refusals (403, 404, network) show where the person looks:
// in the edit bar or in the dialog, never as an alert.
import { api } from './api.js';
import { autosize, loadDraft } from './composer.js';
import { codePoints, normalizeMessage } from './format.js';
import { applyChange, canDelete, canEdit, state } from './state.js';
import { $, errorText, renderAll, toast } from './ui.js';

const MAX_TEXT = 1000;

/** The message being edited: `{chatId, id, original}`, or null. */
let editing = null;
/** The message the delete dialog asks about: `{chatId, id}`, or null. */
let deleting = null;

export const isEditing = () => editing !== null;

function findMessage(chatId, id) {
  const chat = state.chats.get(chatId);
  const m = chat?.messages.find((k) => k.id === id) ?? null;
  return chat && m ? { chat, m } : null;
}

function editError(text) {
  $('edit-error').textContent = text ?? '';
}

/** Puts a message of ours into the composer for editing. */
export function startEdit(chatId, id) {
  const found = findMessage(chatId, id);
  if (!found || !canEdit(found.chat, found.m)) return false;
  editing = { chatId, id, original: found.m.text };
  $('edit-bar').hidden = false;
  $('edit-preview').textContent = found.m.text;
  editError('');
  $('composer').classList.add('is-editing');
  const send = $('composer').querySelector('button[type=submit]');
  send.textContent = 'Save';
  send.setAttribute('aria-label', 'Save the edited message');
  const input = $('composer-text');
  input.value = found.m.text;
  autosize();
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
  return true;
}

/** Leaves edit mode; the chat's draft comes back into the composer. */
export function cancelEdit({ focus = true } = {}) {
  if (!editing) return;
  editing = null;
  $('edit-bar').hidden = true;
  editError('');
  $('composer').classList.remove('is-editing');
  const send = $('composer').querySelector('button[type=submit]');
  send.textContent = 'Send';
  send.setAttribute('aria-label', 'Send message');
  const chat = state.openId ? state.chats.get(state.openId) : null;
  loadDraft(chat ?? null);
  if (focus) $('composer-text').focus();
}

/** Up arrow in an empty composer: edit the newest message of ours in the open chat. */
export function editLast() {
  const chat = state.openId && state.chats.get(state.openId);
  if (!chat) return false;
  for (let i = chat.messages.length - 1; i >= 0; i -= 1) {
    const m = chat.messages[i];
    if (canEdit(chat, m)) return startEdit(chat.id, m.id);
  }
  return false;
}

export async function saveEdit() {
  if (!editing) return;
  const target = editing;
  const text = $('composer-text').value;
  if (!text.trim()) return editError('A message cannot be empty — delete it instead');
  if (codePoints(text) > MAX_TEXT) return editError(`A message can be at most ${MAX_TEXT} characters`);
  if (text === target.original) return cancelEdit();
  editError('');
  const button = $('composer').querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const res = await api.editMessage(target.chatId, target.id, text);
    const chat = state.chats.get(target.chatId);
    if (chat) applyChange(chat, normalizeMessage(res.message, target.chatId));
    if (editing === target) cancelEdit();
    renderAll();
  } catch (err) {
    if (editing === target) editError(errorText(err));
  } finally {
    button.disabled = false;
  }
}

/** Opens the "Delete this message?" dialog. */
export function askDelete(chatId, id) {
  const found = findMessage(chatId, id);
  if (!found || !canDelete(found.chat, found.m)) return;
  deleting = { chatId, id };
  const dialog = $('delete-dialog');
  $('delete-preview').textContent = found.m.text;
  $('delete-note').textContent = found.m.senderId === state.me.id ? 'It disappears for everyone in the chat.' : 'It disappears for everyone in the chat, its author included.';
  dialog.querySelector('.form-error').textContent = '';
  dialog.showModal();
  // Cancel first: Enter on a dialog that just opened must not delete.
  dialog.querySelector('[data-close]').focus();
}

export async function confirmDelete() {
  const target = deleting;
  const dialog = $('delete-dialog');
  if (!target) return dialog.close();
  const button = $('delete-confirm');
  button.disabled = true;
  dialog.querySelector('.form-error').textContent = '';
  try {
    await api.deleteMessage(target.chatId, target.id);
    const found = findMessage(target.chatId, target.id);
    // The socket's message_deleted follows; showing the tombstone now does not wait for it.
    if (found) applyChange(found.chat, { id: target.id, deleted: true, changeSeq: Math.max(found.m.changeSeq ?? 0, found.chat.changeCursor) + 1 });
    if (editing?.id === target.id) cancelEdit({ focus: false });
    deleting = null;
    dialog.close();
    renderAll();
  } catch (err) {
    dialog.querySelector('.form-error').textContent = errorText(err);
  } finally {
    button.disabled = false;
  }
}

/**
 * Messages changed under us (another window, another person, a catch-up): an edit or a delete
 * dialog of a message that is gone now ends.
 */
export function onMessagesChanged() {
  const gone = (target) => {
    const found = target && findMessage(target.chatId, target.id);
    return Boolean(found && found.m.deleted);
  };
  if (gone(editing)) {
    cancelEdit({ focus: false });
    toast('The message you were editing was deleted');
  }
  if (gone(deleting)) {
    deleting = null;
    $('delete-dialog').close();
  }
}
