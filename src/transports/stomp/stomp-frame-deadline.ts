/**
 * A frame must be complete (NUL-terminated) within `ms` of the moment it started pending: a
 * peer that trickles one frame forever would otherwise hold its buffer. The clock restarts
 * whenever a chunk completes some frame and leaves another pending.
 */
export class StompFrameDeadline {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ms: number,
    private readonly expired: (ms: number) => void,
  ) {}

  /** After each chunk: whether the parser still holds a partial frame, and whether it completed any. */
  update(pending: boolean, completedSome: boolean): void {
    if (!pending) {
      this.stop();
      return;
    }
    if (this.timer && !completedSome) return;
    this.stop();
    this.timer = setTimeout(() => this.expired(this.ms), this.ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
