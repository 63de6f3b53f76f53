/**
 * Runs one connection's inbound frames one after another, so two sends from one socket are
 * stored in the order they were sent. At most `max` frames wait; `push` refuses more (the
 * caller answers with its own error shape) instead of queueing without bound.
 */
export class FrameQueue {
  private chain: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly max: number) {}

  /** Queues `task`; false when full. `onError` gets whatever the task throws. */
  push(task: () => Promise<void>, onError: (err: unknown) => void): boolean {
    if (this.waiting >= this.max) return false;
    this.waiting++;
    this.chain = this.chain
      .then(task)
      .catch(onError)
      .finally(() => {
        this.waiting--;
      });
    return true;
  }
}
