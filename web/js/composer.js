// The composer: sending (over the socket, or REST when it is down), resending what never came
// back, the draft of each chat, and the typing signal. While it edits a message (editing.js),
// Enter saves the edit, and neither the draft nor the typing signal follow what is typed.
import { api } from './api.js';
import { getDraft, setDraft } from './drafts.js';
import { isEditing, saveEdit } from './editing.js';
import { codePoints, normalizeMessage, randomId } from './format.js';
import { addMessages, bump, state } from './state.js';
import { $, errorText, renderAll, renderOpen, runtime, toast } from './ui.js';

const TYPING_SEND_EVERY_MS = 3000;
const MAX_TEXT = 1000;

let typingSentAt = 0;
let typingChat = null;
export function noteTyping() {
  const chat = state.openId;
  if (!chat || isEditing()) return;
  const text = $('composer-text').value;
  if (!text.trim()) return stopTyping();
  if (typingChat === chat && Date.now() - typingSentAt < TYPING_SEND_EVERY_MS) return;
  if (runtime.live?.send('typing', { conversation_id: chat, is_typing: true })) {
    typingChat = chat;
    typingSentAt = Date.now();
  }
}

export function stopTyping() {
  if (!typingChat) return;
  runtime.live?.send('typing', { conversation_id: typingChat, is_typing: false });
  typingChat = null;
  typingSentAt = 0;
}

/** Puts the draft of `chat` (or nothing, with no chat open) into the composer. */
export function loadDraft(chat) {
  const input = $('composer-text');
  input.value = chat && state.me ? getDraft(state.me.id, chat.id) : '';
  autosize();
}

/** Keeps what is typed as the open chat's draft. */
export function saveDraft() {
  if (state.openId && state.me && !isEditing()) setDraft(state.me.id, state.openId, $('composer-text').value);
}

let tempCounter = 0;
/**
 * Sends a message, or sends a pending one again. Every send of one message carries the same
 * client id, so the server stores it once even when it heard an earlier attempt.
 */
export async function sendText(chat, text, existing) {
  const pending = existing ?? { tempId: `t${++tempCounter}`, clientMsgId: randomId(), text, at: Date.now(), failed: null };
  pending.failed = null;
  pending.at = Date.now();
  if (!existing) chat.pending.push(pending);
  if (runtime.live?.send('message', { conversation_id: chat.id, body: text, client_msg_id: pending.clientMsgId })) {
    // The socket echoes it to every device of ours; that echo replaces the pending bubble.
    renderOpen({ position: 'bottom' });
    return;
  }
  renderOpen({ position: 'bottom' });
  try {
    const sent = normalizeMessage(await api.send(chat.id, text, pending.clientMsgId), chat.id);
    addMessages(chat, [sent]);
    chat.pending = chat.pending.filter((p) => p !== pending);
    bump(chat, sent.at);
  } catch (err) {
    pending.failed = navigator.onLine ? errorText(err) : 'offline, will send when back online';
  }
  renderAll();
}

/** After a reconnect: every send started before it and not yet confirmed goes again. */
export function resendPending(before) {
  for (const chat of state.chats.values()) {
    for (const p of chat.pending) if (p.at < before) sendText(chat, p.text, p);
  }
}

export function submitComposer(event) {
  event.preventDefault();
  if (isEditing()) return saveEdit();
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
  saveDraft();
  autosize();
  sendText(chat, text);
}

export function autosize() {
  const input = $('composer-text');
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}
