import type { IncomingMessage } from 'node:http';

/** How much of a refused body the server reads and drops before answering. */
export const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
/** How long it waits for that, so a slow sender cannot hold the answer back forever. */
export const DISCARD_TIMEOUT_MS = 15_000;

/**
 * Reads and drops what is left of a request body we are refusing, up to a bound. A server
 * that answers and closes while the client is still sending makes the client's kernel see a
 * reset (EPIPE/ECONNRESET): a browser shows a network error instead of the 413/401. Reading
 * the rest first lets the client finish sending and read the answer. Resolves `true` when the
 * body was read to its end (the connection can be kept), `false` when the bound was hit.
 */
export function discardBody(request: IncomingMessage, limitBytes = DISCARD_LIMIT_BYTES, timeoutMs = DISCARD_TIMEOUT_MS): Promise<boolean> {
  if (request.complete || request.readableEnded || request.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (complete: boolean): void => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onClose);
      request.off('close', onClose);
      if (!complete) request.pause();
      resolve(complete);
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > limitBytes) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onClose = (): void => finish(request.complete);
    const timer = setTimeout(() => finish(false), timeoutMs);
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onClose);
    request.once('close', onClose);
    request.resume();
  });
}
