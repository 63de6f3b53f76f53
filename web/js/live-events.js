// Live events from the hub socket: message, typing, presence, read, error.
import { learnUsers, markReadSoon, scheduleRefresh } from './chats.js';
import { normalizeMessage } from './format.js';
import { addMessages, bump, noteRead, state } from './state.js';
import { openChatVisible, renderOpen, toast } from './ui.js';
import { renderHeader, renderList, renderMessages, renderTyping } from './views.js';

const TYPING_SHOW_MS = 7000;

export function onFrame(frame) {
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

export function clearTyping(chat, userId, render = true) {
  clearTimeout(chat.typing.get(userId));
  if (!chat.typing.delete(userId) || !render) return;
  renderList();
  if (state.openId === chat.id) renderTyping(chat);
}
