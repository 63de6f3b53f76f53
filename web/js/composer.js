// The composer: sending (over the socket, or REST when it is down) and the typing signal.
import { api } from './api.js';
import { codePoints, normalizeMessage } from './format.js';
import { addMessages, bump, state } from './state.js';
import { $, errorText, renderAll, renderOpen, runtime, toast } from './ui.js';

const TYPING_SEND_EVERY_MS = 3000;
const MAX_TEXT = 1000;

let typingSentAt = 0;
let typingChat = null;
export function noteTyping() {
  const chat = state.openId;
  if (!chat) return;
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

let tempCounter = 0;
export async function sendText(chat, text, existing) {
  const pending = existing ?? { tempId: `t${++tempCounter}`, text, at: Date.now(), failed: null };
  pending.failed = null;
  pending.at = Date.now();
  if (!existing) chat.pending.push(pending);
  if (runtime.live?.send('message', { conversation_id: chat.id, body: text })) {
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

export function submitComposer(event) {
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

export function autosize() {
  const input = $('composer-text');
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}
