// Live events from the hub socket: message, edits and deletes, typing, presence, read, chat
// and membership changes, error.
import { closeChat, learnUsers, maybeMarkRead, scheduleRefresh } from './chats.js';
import { onMessagesChanged } from './editing.js';
import { normalizeMessage } from './format.js';
import { notifyMessage } from './notify.js';
import { addMessages, applyChange, bump, noteRead, noteSystem, state } from './state.js';
import { $, openChatVisible, renderAll, renderOpen, toast } from './ui.js';
import { chatTitle, renderHeader, renderList, renderMembers, renderMessages, renderTyping, systemText, view } from './views.js';

const TYPING_SHOW_MS = 7000;

export function onFrame(frame) {
  const data = frame.data ?? {};
  switch (frame.type) {
    case 'message': {
      const m = normalizeMessage(data);
      const chat = state.chats.get(m.chatId);
      if (!chat) return scheduleRefresh();
      // New unless held already, or the list (refreshed meanwhile) already counted it.
      const lm = chat.lastMessage;
      const isNew = !chat.ids.has(m.id) && !(lm && (lm.id === m.id || (m.seq !== null && lm.seq !== null && lm.seq >= m.seq)));
      const added = chat.loaded && addMessages(chat, [m]).length > 0;
      if (!chat.loaded && isNew) chat.lastMessage = { id: m.id, text: m.text, senderId: m.senderId, at: m.at, seq: m.seq };
      if (!isNew) {
        if (added && state.openId === chat.id) renderMessages(chat);
        break;
      }
      bump(chat, m.at);
      if (m.senderId !== state.me.id) {
        clearTyping(chat, m.senderId);
        learnUsers([m.senderId]);
        // Unread until the reader sees it (maybeMarkRead marks it then). Followed live in the
        // focused open chat, it is seen at once: no badge to flash in the meantime.
        const open = state.openId === chat.id;
        if (!(open && view.stick && openChatVisible() && document.hasFocus())) chat.unreadCount += 1;
        if (open && !view.stick) chat.newBelow += 1;
        notifyMessage(chat, m);
      } else {
        // Read on another device, or just written here: nothing of ours is unread before it.
        chat.unreadCount = 0;
      }
      renderList();
      if (state.openId === chat.id) renderMessages(chat);
      maybeMarkRead();
      break;
    }
    case 'message_updated':
    case 'message_deleted': {
      const chat = state.chats.get(String(data.conversation_id));
      if (!chat) return;
      const deleted = frame.type === 'message_deleted';
      const changeSeq = typeof data.change_seq === 'number' ? data.change_seq : 0;
      const change = { id: String(data.id), deleted, changeSeq, text: deleted ? undefined : String(data.body ?? ''), editedAt: typeof data.edited_at === 'number' ? data.edited_at * 1000 : Date.now() };
      const m = applyChange(chat, change);
      // Events of one chat come in change order: the next one moves the catch-up cursor.
      if (changeSeq === chat.changeCursor + 1) chat.changeCursor = changeSeq;
      if (m) onMessagesChanged();
      renderList();
      if (m && state.openId === chat.id) renderMessages(chat);
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
    case 'conversation_created':
    case 'conversation_updated':
    case 'conversation_deleted':
    case 'members_added':
    case 'members_removed':
      onChatChange(frame.type, data);
      break;
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

/** A chat or membership change made anywhere (this tab included): applied at once, and told. */
function onChatChange(type, data) {
  const chatId = String(data.conversation_id);
  const chat = state.chats.get(chatId);
  const actorId = String(data.actor_id ?? '');
  const userIds = Array.isArray(data.user_ids) ? data.user_ids.map(String) : [];
  if (!chat) {
    // New to us (created, or we were added): the list has what we need to show it.
    if (type === 'conversation_created' || type === 'members_added') scheduleRefresh();
    return;
  }
  const wasOpen = state.openId === chatId;
  const gone = type === 'conversation_deleted' || (type === 'members_removed' && userIds.includes(state.me.id));
  if (gone) {
    const title = chatTitle(chat);
    state.chats.delete(chatId);
    if (wasOpen) {
      $('members-dialog').close();
      closeChat();
    }
    renderList();
    if (actorId !== state.me.id) {
      const entry = { kind: 'removed', actorId, userIds: [state.me.id] };
      toast(type === 'conversation_deleted' ? `“${title}” was deleted` : `${systemText(entry).replace(/ You$/, ' you')} from “${title}”`);
    }
    return;
  }
  learnUsers([actorId, ...userIds]);
  switch (type) {
    case 'conversation_updated': {
      const name = data.name ?? null;
      const avatarUrl = data.avatar_url ?? null;
      if (chat.type === 'group' && name !== chat.name) noteSystem(chat, { kind: 'renamed', actorId, name });
      if (avatarUrl !== chat.avatarUrl) noteSystem(chat, { kind: 'picture', actorId });
      if (chat.type === 'group') chat.name = name;
      chat.avatarUrl = avatarUrl;
      break;
    }
    case 'members_added':
      for (const id of userIds) if (!chat.participants.some((p) => p.userId === id)) chat.participants.push({ userId: id, role: 'member' });
      noteSystem(chat, { kind: 'added', actorId, userIds });
      break;
    case 'members_removed':
      chat.participants = chat.participants.filter((p) => !userIds.includes(p.userId));
      for (const id of userIds) chat.readSeqs.delete(id);
      noteSystem(chat, { kind: 'removed', actorId, userIds });
      break;
    default:
      break;
  }
  renderAll();
  if (wasOpen && $('members-dialog').open) renderMembers(chat);
}
