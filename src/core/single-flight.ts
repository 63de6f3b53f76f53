/**
 * One call in flight per key: callers that ask for the same key while a call runs share its
 * promise (its value or its error), and the key is free again as soon as the call settles, so
 * nothing is cached past it. Used where many clients ask the identical question at the same
 * moment (a reconnect storm's catch-up reads of one chat).
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, call: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const promise = call().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  /** Keys with a call in flight (metrics, tests). */
  get size(): number {
    return this.inFlight.size;
  }
}
