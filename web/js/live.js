// The one live connection: the `hub` dialect's WebSocket (/api/v1/ws?token=…). It reconnects by
// itself with a growing delay (at once when the browser says it is back online) and reports
// every (re)open, so the app can catch up on what it missed while it was down.
export class Live extends EventTarget {
  #url;
  #ws = null;
  #stopped = true;
  #attempt = 0;
  #timer = null;
  #opens = 0;
  #failuresSinceOpen = 0;

  /** @param {() => string} url the upgrade URL, asked again on every attempt (the token may change). */
  constructor(url) {
    super();
    this.#url = url;
    this.onOnline = () => this.#retryNow();
  }

  get isOpen() {
    return this.#ws !== null && this.#ws.readyState === WebSocket.OPEN;
  }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    window.addEventListener('online', this.onOnline);
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.#timer);
    const ws = this.#ws;
    this.#ws = null;
    if (ws) ws.close(1000, 'bye');
  }

  /** Sends `{type, data}`; false when the socket is not open (the caller falls back to REST). */
  send(type, data) {
    if (!this.isOpen) return false;
    this.#ws.send(JSON.stringify({ type, data }));
    return true;
  }

  #emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  #connect() {
    clearTimeout(this.#timer);
    let ws;
    try {
      ws = new WebSocket(this.#url());
    } catch {
      this.#schedule();
      return;
    }
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      opened = true;
      this.#attempt = 0;
      this.#failuresSinceOpen = 0;
      this.#emit('open', { reconnect: this.#opens > 0 });
      this.#opens += 1;
    };
    ws.onmessage = (e) => {
      if (this.#ws !== ws || typeof e.data !== 'string') return;
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === 'string') this.#emit('frame', frame);
    };
    ws.onclose = (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      if (!opened) this.#failuresSinceOpen += 1;
      this.#emit('down', { code: e.code, failures: this.#failuresSinceOpen });
      if (!this.#stopped) this.#schedule();
    };
  }

  #schedule() {
    clearTimeout(this.#timer);
    const delay = Math.min(10_000, 500 * 2 ** this.#attempt) * (0.75 + Math.random() * 0.5);
    this.#attempt = Math.min(this.#attempt + 1, 6);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #retryNow() {
    if (this.#stopped || this.#ws) return;
    this.#attempt = 0;
    this.#connect();
  }
}
