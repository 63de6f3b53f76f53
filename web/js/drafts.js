// Unsent text per chat, per account, in localStorage: it stays with its chat across chat
// switches and reloads, and never shows up in another chat's composer.
const prefix = (userId) => `polychat.drafts.${userId}`;

function load(userId) {
  try {
    const value = JSON.parse(localStorage.getItem(prefix(userId)) ?? '{}');
    return value && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

export function getDraft(userId, chatId) {
  const text = load(userId)[chatId];
  return typeof text === 'string' ? text : '';
}

export function setDraft(userId, chatId, text) {
  const drafts = load(userId);
  if (text.trim()) drafts[chatId] = text;
  else delete drafts[chatId];
  try {
    if (Object.keys(drafts).length) localStorage.setItem(prefix(userId), JSON.stringify(drafts));
    else localStorage.removeItem(prefix(userId));
  } catch {
    // storage full or disabled: the draft lives until the chat is switched
  }
}

export function clearDrafts(userId) {
  localStorage.removeItem(prefix(userId));
}
