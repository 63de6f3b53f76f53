// Desktop notifications for messages that arrive while the tab is hidden or not focused. The
// browser asks for permission only after a click on "Enable notifications" (a user gesture).
import { nameOf, state } from './state.js';
import { chatTitle } from './views.js';

const supported = () => typeof window.Notification === 'function';

/** Whether to offer the "Enable notifications" button: supported and not yet decided. */
export function canAskForNotifications() {
  return supported() && Notification.permission === 'default';
}

export async function askForNotifications() {
  if (!supported()) return false;
  return (await Notification.requestPermission()) === 'granted';
}

let openChatHandler = () => {};
/** What a click on a notification does (open that chat). */
export function onNotificationClick(handler) {
  openChatHandler = handler;
}

export function notifyMessage(chat, m) {
  if (!supported() || Notification.permission !== 'granted') return;
  if (document.visibilityState === 'visible' && document.hasFocus()) return;
  const title = chat.type === 'group' ? `${nameOf(m.senderId)} in ${chatTitle(chat)}` : chatTitle(chat);
  try {
    // One notification per chat: a newer message replaces the older one (same tag).
    const n = new Notification(title, { body: m.text.slice(0, 200), tag: `polychat-${state.me?.id}-${chat.id}` });
    n.onclick = () => {
      window.focus();
      openChatHandler(chat.id);
      n.close();
    };
  } catch {
    // Some browsers only allow notifications from a service worker: then there are none.
  }
}
