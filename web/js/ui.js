// Shared UI helpers: the toast, form errors, the connection banner, re-rendering.
import { ApiError } from './api.js';
import { state } from './state.js';
import { renderChat, renderList } from './views.js';

export const $ = (id) => document.getElementById(id);

/** What the app holds while signed in: the live socket and the list refresh timer. */
export const runtime = { live: null, listTimer: null };

let toastTimer = null;
export function toast(message) {
  const node = $('toast');
  node.textContent = message;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (node.hidden = true), 4000);
}

export function formError(form, message) {
  const node = form.querySelector('.form-error');
  if (node) node.textContent = message ?? '';
}

export const errorText = (err) => (err instanceof ApiError ? err.message : 'Something went wrong');

export function openChatVisible() {
  if (!state.openId || document.visibilityState !== 'visible') return false;
  const narrow = window.matchMedia('(max-width: 720px)').matches;
  return !narrow || $('app-view').dataset.pane === 'chat';
}

export const OFFLINE_TEXT = 'You are offline — messages will be sent when you are back online';

/** The connection banner; being offline (as the browser knows it) outranks every other state. */
export function setConnStatus(text) {
  if (!navigator.onLine) text = OFFLINE_TEXT;
  const node = $('conn-status');
  node.textContent = text ?? '';
  node.hidden = !text;
}

export function renderOpen(options) {
  const chat = state.openId ? state.chats.get(state.openId) : null;
  if (chat) renderChat(chat, options);
}

export function renderAll() {
  renderList();
  renderOpen();
}
