// Small pure helpers: names, times, colours, message normalisation.

/** A time from `stomp`/`hub` REST (ISO) or the `hub` socket (Unix seconds), in ms; null when absent. */
function timeOf(value) {
  if (value === null || value === undefined) return null;
  const ms = typeof value === 'number' ? value * 1000 : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * One message shape for the app, from `stomp` REST (`content`, ISO time) or `hub` (`body`; REST
 * ISO times, socket Unix s). `changeSeq` orders edits and deletes of one chat: a copy with a
 * higher one is the newer state.
 */
export function normalizeMessage(raw, chatIdHint) {
  const at = timeOf(raw.createdAt ?? raw.created_at);
  const deletedAt = timeOf(raw.deletedAt ?? raw.deleted_at);
  const changeSeq = raw.changeSeq ?? raw.change_seq;
  return {
    id: String(raw.id),
    chatId: String(raw.conversationId ?? raw.conversation_id ?? chatIdHint),
    senderId: String(raw.senderId ?? raw.sender_id),
    text: String(raw.content ?? raw.body ?? ''),
    at: at ?? Date.now(),
    seq: typeof raw.seq === 'number' ? raw.seq : null,
    clientMsgId: String(raw.clientMessageId ?? raw.client_msg_id ?? '') || null,
    editedAt: timeOf(raw.editedAt ?? raw.edited_at),
    deleted: deletedAt !== null,
    changeSeq: typeof changeSeq === 'number' ? changeSeq : 0,
  };
}

/** Messages in chat order: by per-chat seq when both have one, else by id (ids grow with time). */
export function compareMessages(a, b) {
  if (a.seq !== null && b.seq !== null && a.seq !== b.seq) return a.seq - b.seq;
  return Number(a.id) - Number(b.id);
}

export function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[1][0] : (parts[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}

export function hue(id) {
  let h = 0;
  for (const ch of String(id)) h = (h * 31 + ch.codePointAt(0)) % 9973;
  // Spread neighbouring ids ("1", "2") far apart on the colour wheel.
  return Math.round(h * 137.508) % 360;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

export function shortTime(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFmt.format(d) : dateFmt.format(d);
}

export function fullTime(ms) {
  return new Date(ms).toLocaleString();
}

/** "last seen 5 minutes ago" style, for presence. */
export function lastSeen(ms) {
  if (!ms) return 'offline';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return 'last seen just now';
  const m = Math.round(s / 60);
  if (m < 60) return `last seen ${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `last seen ${h} h ago`;
  return `last seen ${dateFmt.format(new Date(ms))}`;
}

/** Code points, as the server counts text length. */
export function codePoints(text) {
  return [...text].length;
}

/** "1 member", "3 members". */
export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** The local calendar day of a time, as a key for date separators. */
export function dayKey(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

const longDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const yearDateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });

/** "Today", "Yesterday", "Monday, 30 November", or with the year when it is not this year. */
export function dayLabel(ms) {
  const d = new Date(ms);
  const today = new Date();
  if (dayKey(ms) === dayKey(today.getTime())) return 'Today';
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(ms) === dayKey(yesterday.getTime())) return 'Yesterday';
  return d.getFullYear() === today.getFullYear() ? longDateFmt.format(d) : yearDateFmt.format(d);
}

// http(s) links only: anything else (javascript:, data:) stays plain text.
const LINK = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"»]+$/;

/**
 * Splits text into plain parts and links: `[{text}, {text, href}, …]`. Trailing punctuation
 * stays outside the link ("see https://x.org." links https://x.org).
 */
export function linkParts(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    let url = match[0];
    const trail = TRAILING.exec(url)?.[0] ?? '';
    // Keep a closing bracket that closes one inside the URL (Wikipedia-style links).
    if (trail && !(trail.startsWith(')') && url.includes('('))) url = url.slice(0, url.length - trail.length);
    let href;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') continue;
      href = parsed.href;
    } catch {
      continue;
    }
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ text: url, href });
    last = match.index + url.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** A random id for an outgoing message, so a resend is recognised (works without a secure context). */
export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
