// Message search: the box above the chat list asks `GET /api/v1/chat/search` (only chats we are
// in), lists the results in place of the chats (chat, sender, time, a snippet with the words
// found marked) and opens a result's chat scrolled to it. Escape or clearing the box brings the
// chat list back. Everything is built with textContent: no HTML from what people wrote.
import { api } from './api.js';
import { learnUsers, openChatAt } from './chats.js';
import { normalizeMessage, shortTime, fullTime } from './format.js';
import { nameOf, state } from './state.js';
import { $, errorText } from './ui.js';
import { chatTitle } from './views.js';

const PAGE = 30;
const DEBOUNCE_MS = 300;
const MAX_QUERY = 200;

/** The search shown: its words, results so far, whether more may follow. */
let current = null;
let timer = null;
let generation = 0;

/** The words to mark: what the server matches on (letters and digits), minus `-excluded` terms and `or`. */
export function queryTerms(q) {
  const terms = new Set();
  for (const match of q.matchAll(/(-?)"([^"]*)"?|(-?)(\S+)/g)) {
    const excluded = (match[1] ?? match[3]) === '-';
    const text = match[2] ?? match[4] ?? '';
    if (excluded || (match[4] !== undefined && text.toLowerCase() === 'or')) continue;
    for (const word of text.matchAll(/[\p{L}\p{N}]+/gu)) terms.add(word[0].toLowerCase());
  }
  return terms;
}

/** `[{text, hit}]`: the text cut around its first hit, the words of the query marked. */
export function snippetParts(text, terms, room = 120) {
  const words = [...text.matchAll(/[\p{L}\p{N}]+/gu)];
  const first = words.find((w) => terms.has(w[0].toLowerCase()));
  let start = 0;
  if (first && first.index > room / 3) {
    start = first.index - Math.floor(room / 3);
    // Start at a word boundary, not inside a word.
    const space = text.indexOf(' ', start);
    if (space >= 0 && space < first.index) start = space + 1;
  }
  const end = Math.min(text.length, start + room);
  const parts = [];
  if (start > 0) parts.push({ text: '…', hit: false });
  let at = start;
  for (const w of words) {
    if (w.index < start || w.index + w[0].length > end || !terms.has(w[0].toLowerCase())) continue;
    if (w.index > at) parts.push({ text: text.slice(at, w.index), hit: false });
    parts.push({ text: w[0], hit: true });
    at = w.index + w[0].length;
  }
  if (end > at) parts.push({ text: text.slice(at, end), hit: false });
  if (end < text.length) parts.push({ text: '…', hit: false });
  return parts;
}

function setStatus(text, { error = false } = {}) {
  const node = $('search-status');
  node.textContent = text ?? '';
  node.hidden = !text;
  node.classList.toggle('form-error', error);
}

function showResults(on) {
  $('search-results').hidden = !on;
  $('chat-list').hidden = on;
  if (on) $('empty-list').hidden = true;
  $('search-clear').hidden = !on && !$('search-input').value;
}

function resultItem(m, terms) {
  const chat = state.chats.get(m.chatId);
  const title = chat ? chatTitle(chat) : 'Chat';
  const sender = nameOf(m.senderId);
  const snippet = document.createElement('span');
  snippet.className = 'result-snippet';
  for (const part of snippetParts(m.text, terms)) {
    if (part.hit) {
      const mark = document.createElement('mark');
      mark.textContent = part.text;
      snippet.append(mark);
    } else snippet.append(part.text);
  }
  const head = document.createElement('span');
  head.className = 'result-head';
  const name = document.createElement('span');
  name.className = 'result-chat';
  name.textContent = title;
  const time = document.createElement('time');
  time.className = 'result-time';
  time.dateTime = new Date(m.at).toISOString();
  time.title = fullTime(m.at);
  time.textContent = shortTime(m.at);
  head.append(name, time);
  const who = document.createElement('span');
  who.className = 'result-sender';
  who.textContent = sender;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'search-result';
  button.dataset.chatId = m.chatId;
  button.dataset.messageId = m.id;
  button.setAttribute('aria-label', `${sender} in ${title}, ${shortTime(m.at)}: ${m.text.slice(0, 120)}`);
  button.append(head, who, snippet);
  const li = document.createElement('li');
  li.append(button);
  return li;
}

function renderResults() {
  if (!current) return;
  const list = $('search-results');
  list.replaceChildren(...current.messages.map((m) => resultItem(m, current.terms)));
  if (current.more) {
    const more = document.createElement('button');
    more.type = 'button';
    more.className = 'link search-more';
    more.id = 'search-more';
    more.textContent = 'More results';
    const li = document.createElement('li');
    li.append(more);
    list.append(li);
  }
}

async function runSearch(q, { append = false } = {}) {
  const mine = ++generation;
  const offset = append && current ? current.messages.length : 0;
  setStatus(append ? 'Loading…' : 'Searching…');
  try {
    const res = await api.search(q, PAGE, offset);
    if (mine !== generation) return;
    const page = res.messages.map((raw) => normalizeMessage(raw));
    if (!append || !current) current = { q, terms: queryTerms(q), messages: [], more: false };
    current.messages.push(...page);
    current.more = page.length === PAGE;
    await learnUsers(page.map((m) => m.senderId));
    if (mine !== generation) return;
    showResults(true);
    renderResults();
    setStatus(current.messages.length ? null : `No messages found for “${q}”`);
  } catch (err) {
    if (mine !== generation) return;
    setStatus(`Search failed: ${errorText(err)}`, { error: true });
  }
}

/** Back to the chat list: the box emptied, results gone. */
export function clearSearch({ focus = false } = {}) {
  generation += 1;
  clearTimeout(timer);
  current = null;
  $('search-input').value = '';
  $('search-results').replaceChildren();
  setStatus(null);
  showResults(false);
  if (focus) $('search-input').focus();
}

function onInput() {
  clearTimeout(timer);
  const q = $('search-input').value.trim();
  $('search-clear').hidden = !$('search-input').value;
  if (!q) return clearSearch();
  if (q.length > MAX_QUERY) return setStatus(`A search can be at most ${MAX_QUERY} characters`, { error: true });
  timer = setTimeout(() => runSearch(q), DEBOUNCE_MS);
}

async function openResult(button) {
  const { chatId, messageId } = button.dataset;
  for (const node of $('search-results').querySelectorAll('[aria-current]')) node.removeAttribute('aria-current');
  button.setAttribute('aria-current', 'true');
  setStatus('Opening…');
  const found = await openChatAt(chatId, messageId).catch(() => false);
  setStatus(found ? null : 'That message is no longer there (the chat was left or the message is gone)', { error: !found });
}

export function wireSearch() {
  const input = $('search-input');
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(timer);
    const q = input.value.trim();
    if (q && q.length <= MAX_QUERY) runSearch(q);
  });
  input.addEventListener('input', onInput);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && input.value) {
      e.preventDefault();
      clearSearch({ focus: true });
    } else if (e.key === 'ArrowDown') {
      const first = $('search-results').querySelector('.search-result');
      if (first && !$('search-results').hidden) {
        e.preventDefault();
        first.focus();
      }
    }
  });
  $('search-clear').addEventListener('click', () => clearSearch({ focus: true }));
  $('search-results').addEventListener('click', (e) => {
    if (e.target.closest('#search-more') && current) return runSearch(current.q, { append: true });
    const button = e.target.closest('.search-result');
    if (button) openResult(button);
  });
  $('search-results').addEventListener('keydown', (e) => {
    const buttons = [...$('search-results').querySelectorAll('.search-result')];
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = at + (e.key === 'ArrowDown' ? 1 : -1);
      if (next < 0) input.focus();
      else buttons[Math.min(next, buttons.length - 1)].focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      clearSearch({ focus: true });
    }
  });
}
