// Rendering: builds DOM from the state with textContent only (no HTML from data, ever).
import { fullTime, hue, initials, lastSeen, shortTime } from './format.js';
import { myRole, nameOf, peerOf, readState, sortedChats, state } from './state.js';

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export function chatTitle(chat) {
  if (chat.type === 'private') {
    const peer = peerOf(chat);
    return chat.name || (peer ? nameOf(peer) : 'Private chat');
  }
  return chat.name || 'Group';
}

/** Fills an avatar element: the picture when there is one, else coloured initials. */
export function fillAvatar(node, name, key, url) {
  node.replaceChildren();
  node.style.setProperty('--hue', String(hue(key)));
  if (url) node.append(el('img', { src: url, alt: '' }));
  else node.textContent = initials(name);
}

function presenceOf(userId) {
  return state.presence.get(userId) ?? null;
}

function typingNames(chat) {
  return [...chat.typing.keys()].filter((id) => id !== state.me?.id).map(nameOf);
}

export function typingText(chat) {
  const names = typingNames(chat);
  if (names.length === 0) return '';
  if (chat.type === 'private') return `${names[0]} is typing…`;
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

export function renderList() {
  const list = $('chat-list');
  const chats = sortedChats();
  $('empty-list').hidden = chats.length > 0;
  const items = chats.map((chat) => {
    const title = chatTitle(chat);
    const avatar = el('span', { class: 'avatar', 'aria-hidden': 'true' });
    fillAvatar(avatar, title, chat.id, chat.avatarUrl);
    const peer = peerOf(chat);
    const presence = peer ? presenceOf(peer) : null;
    if (peer) avatar.append(el('span', { class: `dot ${presence?.online ? 'online' : 'offline'}` }));
    const typing = typingText(chat);
    const last = chat.lastMessage;
    let preview = 'No messages yet';
    if (typing) preview = typing;
    else if (last) {
      const who = last.senderId === state.me?.id ? 'You: ' : chat.type === 'group' ? `${nameOf(last.senderId)}: ` : '';
      preview = who + last.text;
    }
    const unread = chat.unreadCount > 0 ? el('span', { class: 'badge', text: String(chat.unreadCount), 'aria-label': `${chat.unreadCount} unread` }) : null;
    const status = peer ? (presence?.online ? 'online' : 'offline') : `${chat.participants.length} members`;
    const button = el(
      'button',
      {
        type: 'button',
        class: 'chat-item',
        dataset: { chatId: chat.id },
        'aria-current': chat.id === state.openId ? 'true' : null,
        'aria-label': `${title}, ${chat.type === 'group' ? 'group' : 'private chat'}, ${status}${chat.unreadCount ? `, ${chat.unreadCount} unread` : ''}`,
      },
      avatar,
      el(
        'span',
        { class: 'chat-item-body' },
        el('span', { class: 'chat-item-top' }, el('span', { class: 'chat-item-name', text: title }), el('span', { class: 'chat-item-time', text: shortTime(last?.at ?? chat.updatedAt) })),
        el('span', { class: 'chat-item-bottom' }, el('span', { class: `chat-item-preview${typing ? ' is-typing' : ''}`, text: preview }), unread),
      ),
    );
    return el('li', {}, button);
  });
  list.replaceChildren(...items);
}

/** The header line under the chat name: presence for a private chat, members for a group. */
function chatStatus(chat) {
  if (!state.connected) return 'connecting…';
  const peer = peerOf(chat);
  if (peer) {
    const p = presenceOf(peer);
    if (!p) return '';
    return p.online ? 'online' : lastSeen(p.lastSeen);
  }
  const online = chat.participants.filter((p) => p.userId !== state.me?.id && presenceOf(p.userId)?.online).length;
  return `${chat.participants.length} members${online ? `, ${online} online` : ''}`;
}

export function renderHeader(chat) {
  const title = chatTitle(chat);
  $('chat-name').textContent = title;
  fillAvatar($('chat-avatar'), title, chat.id, chat.avatarUrl);
  $('chat-status').textContent = chatStatus(chat);
  $('members').textContent = chat.type === 'group' ? 'Members' : 'Info';
}

export function renderTyping(chat) {
  $('typing').textContent = typingText(chat);
}

function messageItem(chat, m) {
  const mine = m.senderId === state.me?.id;
  const meta = el('span', { class: 'meta' }, el('time', { datetime: new Date(m.at).toISOString(), title: fullTime(m.at), text: shortTime(m.at) }));
  if (mine) {
    const r = readState(chat, m);
    const label = r.read ? (chat.type === 'group' && r.others > 1 ? `Read by ${r.readers} of ${r.others}` : 'Read') : 'Sent';
    meta.append(el('span', { class: `ticks${r.read ? ' read' : ''}`, title: label, 'aria-label': label, role: 'img', text: r.read ? '✓✓' : '✓' }));
  }
  const sender = !mine && chat.type === 'group' ? el('span', { class: 'sender', text: nameOf(m.senderId) }) : null;
  return el(
    'li',
    { class: `msg ${mine ? 'mine' : 'theirs'}`, dataset: { id: m.id, seq: m.seq ?? '' } },
    sender,
    el('span', { class: 'text', text: m.text }),
    meta,
  );
}

function pendingItem(p) {
  const meta = el('span', { class: 'meta' });
  if (p.failed) {
    meta.append(el('span', { class: 'failed', text: `Not sent: ${p.failed}` }), el('button', { type: 'button', class: 'link retry', dataset: { retry: p.tempId }, 'aria-label': 'Retry sending' , text: 'Retry' }));
  } else {
    meta.append(el('span', { class: 'ticks pending', role: 'img', 'aria-label': 'Sending', title: 'Sending', text: '…' }));
  }
  return el('li', { class: 'msg mine pending', dataset: { pending: p.tempId } }, el('span', { class: 'text', text: p.text }), meta);
}

/**
 * Re-renders the messages of the open chat, keeping the reader where they were: at the bottom
 * when they were there, else at the same distance from the bottom (older pages grow upwards).
 */
export function renderMessages(chat, { forceBottom = false } = {}) {
  const scroller = $('scroller');
  const fromBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
  const atBottom = fromBottom < 60;
  const items = chat.messages.map((m) => messageItem(chat, m));
  for (const p of chat.pending) items.push(pendingItem(p));
  $('messages').replaceChildren(...items);
  $('history-status').textContent = !chat.loaded ? 'Loading…' : chat.hasMore ? '' : chat.messages.length ? 'Beginning of the conversation' : 'No messages yet — say hello';
  $('load-older').hidden = !(chat.loaded && chat.hasMore);
  if (forceBottom || atBottom) scroller.scrollTop = scroller.scrollHeight;
  else scroller.scrollTop = scroller.scrollHeight - scroller.clientHeight - fromBottom;
}

export function renderChat(chat, options) {
  $('no-chat').hidden = true;
  $('chat-view').hidden = false;
  renderHeader(chat);
  renderTyping(chat);
  renderMessages(chat, options);
}

export function renderNoChat() {
  $('no-chat').hidden = false;
  $('chat-view').hidden = true;
}

export function renderMembers(chat) {
  const role = myRole(chat);
  const manager = chat.type === 'group' && (role === 'owner' || role === 'admin');
  $('members-title').textContent = chat.type === 'group' ? `Members of ${chatTitle(chat)}` : chatTitle(chat);
  const items = chat.participants.map((p) => {
    const name = p.userId === state.me?.id ? state.me.name || state.me.username || 'You' : nameOf(p.userId);
    const username = state.users.get(p.userId)?.username;
    const pres = presenceOf(p.userId);
    const avatar = el('span', { class: 'avatar small', 'aria-hidden': 'true' });
    fillAvatar(avatar, name, p.userId, null);
    const status = p.userId === state.me?.id ? 'you' : pres ? (pres.online ? 'online' : lastSeen(pres.lastSeen)) : '';
    let action = null;
    if (chat.type === 'group' && p.userId === state.me?.id) {
      action = el('button', { type: 'button', class: 'ghost', dataset: { leave: '1' }, 'aria-label': 'Leave the group', text: 'Leave' });
    } else if (manager && p.role !== 'owner') {
      action = el('button', { type: 'button', class: 'ghost danger', dataset: { remove: p.userId }, 'aria-label': `Remove ${name}`, text: 'Remove' });
    }
    return el(
      'li',
      { class: 'member' },
      avatar,
      el('span', { class: 'member-body' }, el('span', { class: 'member-name', text: username ? `${name} (@${username})` : name }), el('span', { class: 'member-meta', text: [p.role, status].filter(Boolean).join(' · ') })),
      action,
    );
  });
  $('member-list').replaceChildren(...items);
  $('add-member-form').hidden = !manager;
  $('avatar-form').hidden = !manager;
}
