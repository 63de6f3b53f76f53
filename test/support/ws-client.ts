import WebSocket from 'ws';

/**
 * A `ws` client that records every JSON frame, so tests can wait for the one they expect
 * (`next`) or assert that none came (`none`).
 */
export class JsonSocket {
  readonly frames: any[] = [];
  closeCode: number | null = null;
  closeReason = '';
  private readonly waiters = new Set<() => void>();
  private consumed = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { raw: text };
      }
      this.frames.push(parsed);
      for (const w of this.waiters) w();
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      for (const w of this.waiters) w();
    });
    ws.on('error', () => {});
  }

  /** Opens a socket; resolves once open, rejects with the HTTP status if the upgrade is refused. */
  static open(url: string, options: { token?: string; protocols?: string[] } = {}): Promise<JsonSocket> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
      const ws = new WebSocket(url, options.protocols ?? [], { headers });
      const socket = new JsonSocket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next not-yet-consumed frame matching `match` (frames before it stay available). */
  next(match: (frame: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = 0; i < this.frames.length; i++) {
          const f = this.frames[i];
          if (f !== undefined && !f.__consumed && match(f)) {
            Object.defineProperty(f, '__consumed', { value: true, enumerable: false });
            this.consumed++;
            resolve(f);
            return true;
          }
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 800)}`));
      }, timeoutMs);
      const waiter = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.waiters.delete(waiter);
        }
      };
      this.waiters.add(waiter);
    });
  }

  /** Resolves if no matching frame arrives within `ms`; rejects otherwise. */
  async none(match: (frame: any) => boolean, ms = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const hit = this.frames.find((f) => !f.__consumed && match(f));
    if (hit) throw new Error(`unexpected frame ${JSON.stringify(hit)}`);
  }

  closed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return new Promise((resolve, reject) => {
      if (this.closeCode !== null) return resolve({ code: this.closeCode, reason: this.closeReason });
      const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.ws.once('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}
