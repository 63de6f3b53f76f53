// The signed-in account, kept for this browser tab only (sessionStorage): two windows can be two users.
const KEY = 'polychat.session';

/** @returns {{token: string, user: {id: string, username: string, name: string|null}} | null} */
export function getSession() {
  try {
    const raw = sessionStorage.getItem(KEY);
    const value = raw ? JSON.parse(raw) : null;
    return value && typeof value.token === 'string' && value.user ? value : null;
  } catch {
    return null;
  }
}

export function saveSession(token, user) {
  sessionStorage.setItem(KEY, JSON.stringify({ token, user: { id: String(user.id), username: user.username ?? null, name: user.name ?? null } }));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}
