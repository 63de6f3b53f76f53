// The signed-in account, kept in localStorage so a new tab (or a restart) stays signed in until
// the token expires or the user logs out. Each browser profile holds one account.
const KEY = 'polychat.session';

/** The token's `exp` (ms), or null when it has none or cannot be read. */
function expiresAt(token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** @returns {{token: string, user: {id: string, username: string, name: string|null}} | null} */
export function getSession() {
  try {
    const raw = localStorage.getItem(KEY);
    const value = raw ? JSON.parse(raw) : null;
    if (!value || typeof value.token !== 'string' || !value.user) return null;
    const exp = expiresAt(value.token);
    if (exp !== null && exp <= Date.now()) {
      localStorage.removeItem(KEY);
      return null;
    }
    return value;
  } catch {
    return null;
  }
}

export function saveSession(token, user) {
  localStorage.setItem(KEY, JSON.stringify({ token, user: { id: String(user.id), username: user.username ?? null, name: user.name ?? null } }));
}

export function clearSession() {
  localStorage.removeItem(KEY);
}

/** Calls `handler` when another tab signs out or in as someone else. */
export function onSessionChangedElsewhere(handler) {
  window.addEventListener('storage', (e) => {
    if (e.key === KEY || e.key === null) handler(getSession());
  });
}
