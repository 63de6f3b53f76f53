// The per-message menu behind each "⋯" button: Edit (own messages) and Delete. One menu element
// for the page, placed beside the button that opened it; arrow keys move, Escape closes and
// gives focus back to the button.
import { askDelete, startEdit } from './editing.js';
import { state } from './state.js';
import { $ } from './ui.js';

/** The button that opened the menu, while it is open. */
let opener = null;

const items = () => [...$('msg-menu').querySelectorAll('[role=menuitem]:not([hidden])')];

export function openMenu(button) {
  if (opener === button) return closeMenu();
  closeMenu({ restoreFocus: false });
  const menu = $('msg-menu');
  opener = button;
  menu.dataset.messageId = button.dataset.actions;
  menu.querySelector('[data-action=edit]').hidden = button.dataset.edit !== '1';
  menu.hidden = false;
  button.setAttribute('aria-expanded', 'true');
  place();
  items()[0]?.focus();
}

/** The button, or its successor when the row was rebuilt meanwhile (a new message re-groups rows). */
function currentOpener() {
  if (opener?.isConnected) return opener;
  const id = $('msg-menu').dataset.messageId;
  return id ? $('messages').querySelector(`[data-actions="${CSS.escape(id)}"]`) : null;
}

/** Fixed, beside the button, kept inside the window; closed when the button scrolled away. */
function place() {
  const menu = $('msg-menu');
  const button = currentOpener();
  if (!button) return closeMenu({ restoreFocus: false });
  const rect = button.getBoundingClientRect();
  const box = $('scroller').getBoundingClientRect();
  if (rect.bottom < box.top || rect.top > box.bottom) return closeMenu({ restoreFocus: false });
  const width = menu.offsetWidth;
  const height = menu.offsetHeight;
  menu.style.left = `${Math.max(8, Math.min(rect.right - width, window.innerWidth - width - 8))}px`;
  menu.style.top = `${rect.bottom + height + 8 > window.innerHeight ? Math.max(8, rect.top - height - 4) : rect.bottom + 4}px`;
}

export function closeMenu({ restoreFocus = true } = {}) {
  const menu = $('msg-menu');
  if (menu.hidden) return;
  menu.hidden = true;
  const button = currentOpener();
  opener = null;
  button?.setAttribute('aria-expanded', 'false');
  if (restoreFocus) button?.focus();
}

function choose(action) {
  const id = $('msg-menu').dataset.messageId;
  const chatId = state.openId;
  closeMenu({ restoreFocus: action !== 'edit' });
  if (!chatId || !id) return;
  if (action === 'edit') startEdit(chatId, id);
  else if (action === 'delete') askDelete(chatId, id);
}

export function wireMessageMenu() {
  const menu = $('msg-menu');
  $('messages').addEventListener('click', (e) => {
    const button = e.target.closest('[data-actions]');
    if (button) openMenu(button);
  });
  menu.addEventListener('click', (e) => {
    const item = e.target.closest('[data-action]');
    if (item) choose(item.dataset.action);
  });
  menu.addEventListener('keydown', (e) => {
    const list = items();
    const at = list.indexOf(document.activeElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      closeMenu();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      list[(at + step + list.length) % list.length]?.focus();
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      list[e.key === 'Home' ? 0 : list.length - 1]?.focus();
    } else if (e.key === 'Tab') {
      closeMenu();
    }
  });
  // A click elsewhere closes it; it follows its button when the list scrolls.
  document.addEventListener('pointerdown', (e) => {
    if (!menu.hidden && !menu.contains(e.target) && !e.target.closest?.('[data-actions]')) closeMenu({ restoreFocus: false });
  });
  $('scroller').addEventListener('scroll', () => !menu.hidden && place());
  window.addEventListener('resize', () => !menu.hidden && place());
}
