/**
 * STOMP heart-beats as negotiated at CONNECT: a newline every `sendEveryMs` (ephemeral, so a
 * slow reader drops it first), and a close when nothing at all arrived for twice
 * `expectEveryMs` (the spec's tolerance for a late beat).
 */
export class StompHeartBeats {
  private lastReceived = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];

  /** Any bytes from the peer count as a beat. */
  received(): void {
    this.lastReceived = Date.now();
  }

  start(sendEveryMs: number, expectEveryMs: number, send: () => void, timedOut: () => void): void {
    if (sendEveryMs > 0) this.every(sendEveryMs, send);
    if (expectEveryMs > 0) this.every(expectEveryMs, () => Date.now() - this.lastReceived > expectEveryMs * 2 && timedOut());
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  private every(ms: number, run: () => void): void {
    const t = setInterval(run, ms);
    t.unref();
    this.timers.push(t);
  }
}
