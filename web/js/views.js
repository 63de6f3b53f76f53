// Rendering: builds DOM from the state with textContent only (no HTML from data, ever).
import { dayKey, dayLabel, fullTime, hue, initials, lastSeen, linkParts, plural, shortTime } from './format.js';
import { canDelete, canEdit, myRole, nameOf, peerOf, readState, sortedChats, state, totalUnread } from './state.js';

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    // CSS custom properties go through the CSSOM: a style attribute would break the CSP.
    else if (key === 'vars') for (const [name, v] of Object.entries(value)) node.style.setProperty(name, String(v));
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** The colour key of a chat's avatar: the peer's for a private chat (one colour per person everywhere). */
export function chatKey(chat) {
  return chat.type === 'private' ? (peerOf(chat) ?? `chat:${chat.id}`) : `chat:${chat.id}`;
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
  $('empty-list').hidden = chats.length > 0 || !$('search-results').hidden;
  const items = chats.map((chat) => {
    const title = chatTitle(chat);
    const avatar = el('span', { class: 'avatar', 'aria-hidden': 'true' });
    fillAvatar(avatar, title, chatKey(chat), chat.avatarUrl);
    const peer = peerOf(chat);
    const presence = peer ? presenceOf(peer) : null;
    if (peer) avatar.append(el('span', { class: `dot ${presence?.online ? 'online' : 'offline'}` }));
    const typing = typingText(chat);
    const last = chat.lastMessage;
    let preview = 'No messages yet';
    if (typing) preview = typing;
    else if (last) {
      const who = last.senderId === state.me?.id ? 'You: ' : chat.type === 'group' ? `${nameOf(last.senderId)}: ` : '';
      preview = who + (last.deleted ? 'Message deleted' : last.text);
    }
    const unread = chat.unreadCount > 0 ? el('span', { class: 'badge', text: String(chat.unreadCount), 'aria-label': `${chat.unreadCount} unread` }) : null;
    const status = peer ? (presence?.online ? 'online' : 'offline') : plural(chat.participants.length, 'member');
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
  renderTitle();
}

/** The tab title: "(3) polychat — Alice" while 3 messages are unread. */
export function renderTitle() {
  if (!state.me) return;
  const unread = totalUnread();
  const name = state.me.name || state.me.username || state.me.id;
  document.title = `${unread > 0 ? `(${unread}) ` : ''}polychat — ${name}`;
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
  return `${plural(chat.participants.length, 'member')}${online ? `, ${online} online` : ''}`;
}

export function renderHeader(chat) {
  const title = chatTitle(chat);
  $('chat-name').textContent = title;
  fillAvatar($('chat-avatar'), title, chatKey(chat), chat.avatarUrl);
  $('chat-status').textContent = chatStatus(chat);
  $('members').textContent = chat.type === 'group' ? 'Members' : 'Info';
}

export function renderTyping(chat) {
  $('typing').textContent = typingText(chat);
}

/** Message text with http(s) links made clickable; everything else stays text. */
function textNode(text) {
  const node = el('span', { class: 'text' });
  for (const part of linkParts(text)) {
    node.append(part.href ? el('a', { href: part.href, target: '_blank', rel: 'noopener noreferrer', text: part.text }) : part.text);
  }
  return node;
}

function ticksFor(chat, m) {
  const r = readState(chat, m);
  const label = r.read ? (chat.type === 'group' && r.others > 1 ? `Read by ${r.readers} of ${r.others}` : 'Read') : 'Sent';
  return { read: r.read, label };
}

/** Keeps a message's ticks current without rebuilding it (a selection inside it survives). */
function patchTicks(chat, m, node) {
  const ticks = node.querySelector('.ticks');
  if (!ticks) return;
  const t = ticksFor(chat, m);
  if (ticks.getAttribute('aria-label') === t.label) return;
  ticks.className = `ticks${t.read ? ' read' : ''}`;
  ticks.title = t.label;
  ticks.setAttribute('aria-label', t.label);
  ticks.textContent = t.read ? '✓✓' : '✓';
}

/** The "⋯" button that opens a message's menu (edit, delete), for what this person may change. */
function actionsButton(chat, m) {
  const edit = canEdit(chat, m);
  if (!edit && !canDelete(chat, m)) return null;
  const label = `Message actions${m.senderId === state.me?.id ? '' : ` for ${nameOf(m.senderId)}'s message`}`;
  return el('button', { type: 'button', class: 'ghost msg-actions', 'aria-label': label, 'aria-haspopup': 'menu', 'aria-expanded': 'false', dataset: { actions: m.id, edit: edit ? '1' : '' }, text: '⋯' });
}

function messageItem(chat, m, { first, last }) {
  const mine = m.senderId === state.me?.id;
  const group = chat.type === 'group';
  const meta = el('span', { class: 'meta' });
  if (m.editedAt && !m.deleted) meta.append(el('span', { class: 'edited', title: `Edited ${fullTime(m.editedAt)}`, text: 'edited' }));
  meta.append(el('time', { datetime: new Date(m.at).toISOString(), title: fullTime(m.at), text: shortTime(m.at) }));
  if (mine) {
    const t = ticksFor(chat, m);
    meta.append(el('span', { class: `ticks${t.read ? ' read' : ''}`, title: t.label, 'aria-label': t.label, role: 'img', text: t.read ? '✓✓' : '✓' }));
  }
  const sender = !mine && group && first ? el('span', { class: 'sender', text: nameOf(m.senderId), vars: { '--hue': hue(m.senderId) } }) : null;
  let avatar = null;
  if (!mine && group) {
    avatar = el('span', { class: 'avatar small msg-avatar', 'aria-hidden': 'true' });
    if (last) fillAvatar(avatar, nameOf(m.senderId), m.senderId, null);
    else avatar.classList.add('spacer');
  }
  // A deleted message keeps its place as a tombstone: who and when, not what.
  const body = m.deleted ? el('span', { class: 'text tombstone', text: 'Message deleted' }) : textNode(m.text);
  return el(
    'li',
    { class: `msg ${mine ? 'mine' : 'theirs'}${first ? ' first' : ''}${last ? ' last' : ''}${avatar ? ' with-avatar' : ''}${m.deleted ? ' deleted' : ''}`, dataset: { id: m.id, seq: m.seq ?? '' } },
    avatar,
    el('div', { class: 'bubble' }, sender, body, meta),
    actionsButton(chat, m),
  );
}

function pendingItem(p) {
  const meta = el('span', { class: 'meta' });
  if (p.failed) {
    meta.append(el('span', { class: 'failed', text: `Not sent: ${p.failed}` }), el('button', { type: 'button', class: 'link retry', dataset: { retry: p.tempId }, 'aria-label': 'Retry sending', text: 'Retry' }));
  } else {
    meta.append(el('span', { class: 'ticks pending', role: 'img', 'aria-label': 'Sending', title: 'Sending', text: '…' }));
  }
  return el('li', { class: 'msg mine pending', dataset: { pending: p.tempId } }, el('div', { class: 'bubble' }, el('span', { class: 'text', text: p.text }), meta));
}

/** "Alice removed Bob", "You added Carol", "Bob left", "Alice changed the group picture". */
export function systemText(entry) {
  const actor = nameOf(entry.actorId);
  const who = entry.userIds.map(nameOf).join(', ');
  switch (entry.kind) {
    case 'added':
      return `${actor} added ${who}`;
    case 'removed':
      return entry.userIds.length === 1 && entry.userIds[0] === entry.actorId ? `${actor} left` : `${actor} removed ${who}`;
    case 'renamed':
      return `${actor} renamed the group to “${entry.name ?? ''}”`;
    case 'picture':
      return `${actor} changed the group picture`;
    default:
      return `${actor} changed the group`;
  }
}

const GROUP_GAP_MS = 10 * 60 * 1000;

/**
 * What the message list should hold, in order: date separators, system lines, the "New
 * messages" divider, messages (grouped by sender) and pending sends. Each row has a stable key
 * and a signature of what it shows; a row whose signature is unchanged is left alone.
 */
function rows(chat) {
  const out = [];
  const system = [...chat.system].sort((a, b) => a.afterSeq - b.afterSeq || a.at - b.at);
  let si = 0;
  let day = null;
  let dividerDone = chat.divider === null;
  const pushSystem = (entry) => {
    const text = systemText(entry);
    out.push({ key: entry.key, sig: text, make: () => el('li', { class: 'sep system', role: 'status', text }) });
  };
  for (const m of chat.messages) {
    while (si < system.length && m.seq !== null && system[si].afterSeq < m.seq) pushSystem(system[si++]);
    const d = dayKey(m.at);
    if (d !== day) {
      day = d;
      const label = dayLabel(m.at);
      out.push({ key: `d:${d}`, sig: label, make: () => el('li', { class: 'sep date', role: 'separator', 'aria-label': label }, el('span', { text: label })) });
    }
    if (!dividerDone && m.seq !== null && m.seq > chat.divider && m.senderId !== state.me?.id) {
      dividerDone = true;
      out.push({ key: 'new', sig: 'new', make: () => el('li', { class: 'sep unread-divider', id: 'unread-divider', role: 'separator', 'aria-label': 'New messages' }, el('span', { text: 'New messages' })) });
    }
    out.push({ key: `m:${m.id}`, message: m });
  }
  while (si < system.length) pushSystem(system[si++]);
  // Grouping: a run of messages by one sender with no separator between and no long pause.
  for (let i = 0; i < out.length; i += 1) {
    const row = out[i];
    const m = row.message;
    if (!m) continue;
    const prev = out[i - 1]?.message;
    const next = out[i + 1]?.message;
    const first = !prev || prev.senderId !== m.senderId || m.at - prev.at > GROUP_GAP_MS;
    const last = !next || next.senderId !== m.senderId || next.at - m.at > GROUP_GAP_MS;
    const showName = m.senderId !== state.me?.id && chat.type === 'group' ? nameOf(m.senderId) : '';
    row.sig = [m.text, first, last, showName, m.at, m.seq, m.editedAt, m.deleted, canEdit(chat, m), canDelete(chat, m)].join('\u0001');
    row.make = () => messageItem(chat, m, { first, last });
    row.patch = (node) => patchTicks(chat, m, node);
  }
  for (const p of chat.pending) out.push({ key: `p:${p.tempId}`, sig: p.failed ?? '', make: () => pendingItem(p) });
  return out;
}

/**
 * Brings the list in line with `wanted` touching only what changed: rows that stay keep their
 * node (so a text selection survives), new rows are inserted where they belong.
 */
function reconcile(list, wanted) {
  const keys = new Set(wanted.map((r) => r.key));
  const existing = new Map();
  for (const node of [...list.children]) {
    if (keys.has(node.dataset.key) && !existing.has(node.dataset.key)) existing.set(node.dataset.key, node);
    else node.remove();
  }
  let prev = null;
  for (const row of wanted) {
    let node = existing.get(row.key);
    if (!node || node.dataset.sig !== row.sig) {
      const fresh = row.make();
      fresh.dataset.key = row.key;
      fresh.dataset.sig = row.sig;
      if (node) node.replaceWith(fresh);
      node = fresh;
    }
    row.patch?.(node);
    const at = prev ? prev.nextSibling : list.firstChild;
    if (at !== node) list.insertBefore(node, at);
    prev = node;
  }
}

/** How the reader sits in the open chat: following the newest message, or reading above it. */
export const view = { chatId: null, stick: true };

const AT_BOTTOM_PX = 40;

export function atBottom() {
  const s = $('scroller');
  return s.scrollHeight - s.scrollTop - s.clientHeight < AT_BOTTOM_PX;
}

/** The first row the reader sees and where it sits, to put it back after the list changes. */
function captureAnchor(scroller, list) {
  const top = scroller.getBoundingClientRect().top;
  for (const node of list.children) {
    const rect = node.getBoundingClientRect();
    if (rect.bottom > top) return { key: node.dataset.key, offset: rect.top - top };
  }
  return null;
}

function restoreAnchor(scroller, list, anchor) {
  const node = [...list.children].find((n) => n.dataset.key === anchor.key);
  if (!node) return;
  const offset = node.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
  scroller.scrollTop += offset - anchor.offset;
}

export function scrollToBottom() {
  const scroller = $('scroller');
  scroller.scrollTop = scroller.scrollHeight;
  view.stick = true;
}

/**
 * Brings the open chat's messages up to date. The reader stays where they are: following the
 * newest when at the bottom, else the row at the top of the view does not move (new messages
 * below only count up the "↓ N new" button). `position: 'open'` starts at the "New messages"
 * divider when there is one, else at the bottom.
 */
export function renderMessages(chat, { position = null } = {}) {
  const scroller = $('scroller');
  const list = $('messages');
  const switched = view.chatId !== chat.id;
  if (switched) {
    list.replaceChildren();
    view.chatId = chat.id;
    view.stick = true;
  }
  const anchor = view.stick ? null : captureAnchor(scroller, list);
  reconcile(list, rows(chat));
  $('history-status').textContent = !chat.loaded ? 'Loading…' : chat.hasMore ? '' : chat.messages.length ? 'Beginning of the conversation' : 'No messages yet — say hello';
  $('load-older').hidden = !(chat.loaded && chat.hasMore);
  const divider = $('unread-divider');
  if ((position === 'open' || switched) && divider) {
    scroller.scrollTop = Math.max(0, divider.offsetTop - scroller.offsetTop - 8);
    view.stick = atBottom();
  } else if (position === 'bottom' || position === 'open' || view.stick) scrollToBottom();
  else if (anchor) restoreAnchor(scroller, list, anchor);
  if (view.stick) chat.newBelow = 0;
  renderJump(chat);
}

/** The "↓" button: shown while reading above the newest message, with the count of new ones. */
export function renderJump(chat) {
  const button = $('jump-new');
  button.hidden = view.stick;
  button.textContent = chat.newBelow > 0 ? `↓ ${chat.newBelow} new` : '↓';
  button.setAttribute('aria-label', chat.newBelow > 0 ? `Jump to ${plural(chat.newBelow, 'new message')}` : 'Jump to the newest message');
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
