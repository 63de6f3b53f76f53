// Small pure helpers: names, times, colours, message normalisation.

/** One message shape for the app, from `stomp` REST (`content`, ISO time) or the `hub` socket (`body`, Unix s). */
export function normalizeMessage(raw, chatIdHint) {
  const created = raw.createdAt ?? raw.created_at;
  const at = typeof created === 'number' ? created * 1000 : Date.parse(created);
  return {
    id: String(raw.id),
    chatId: String(raw.conversationId ?? raw.conversation_id ?? chatIdHint),
    senderId: String(raw.senderId ?? raw.sender_id),
    text: String(raw.content ?? raw.body ?? ''),
    at: Number.isFinite(at) ? at : Date.now(),
    seq: typeof raw.seq === 'number' ? raw.seq : null,
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
