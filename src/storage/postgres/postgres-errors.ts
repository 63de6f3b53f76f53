import { badRequest, unavailable, type ChatError } from '../../domain/errors.js';
import type { Logger } from '../../ports/logger.js';

/** SQLSTATEs PostgreSQL raises for text it cannot hold (U+0000): 22021, 22P05. */
const NUL_ERRORS = new Set(['22021', '22P05']);

/**
 * SQLSTATEs that mean "the server is not there right now", not "this query is wrong": class 08
 * (connection exception), admin/crash shutdown and "starting up" (57P01-57P03), too many
 * connections (53300).
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** Socket errors of a refused, lost or unresolvable connection. */
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** node-postgres raises these without a code. */
const UNAVAILABLE_MESSAGES = [/^Connection terminated/, /timeout exceeded when trying to connect/, /not queryable/, /Client was closed/];

/** The one place that decides whether a PostgreSQL failure is an outage. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true;
  }
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(message))) return true;
  // An AggregateError (every address of the host refused) carries the socket errors inside.
  const inner = (err as { errors?: unknown }).errors;
  return Array.isArray(inner) && inner.length > 0 && inner.every(isDatabaseUnavailable);
}

/** What a caller sees instead of a driver error, or `null` to let the error through unchanged. */
function translate(err: unknown): ChatError | null {
  const code = (err as { code?: unknown } | null)?.code;
  // PostgreSQL cannot store or even compare text holding U+0000. The core refuses such input
  // where it enters; this is the net under every other path: a 400, never a 500.
  if (typeof code === 'string' && NUL_ERRORS.has(code)) return badRequest('Text must not contain NUL characters');
  if (isDatabaseUnavailable(err)) return unavailable();
  return null;
}

/**
 * Wraps every method of a PostgreSQL-backed store: driver errors the caller can act on become
 * `ChatError`s (NUL text → `bad_request`, an outage → `unavailable`), and the outage is logged
 * once when it starts and once when a call succeeds again, never once per request.
 */
export function translatePostgresErrors<T extends { ping(): Promise<void> }>(store: T, log: Logger): T {
  let down = false;
  let probing = false;
  const failed = (err: unknown): never => {
    const translated = translate(err);
    if (translated?.code === 'unavailable' && !down) {
      down = true;
      log.warn({ err: { type: (err as Error)?.name, message: (err as Error)?.message, code: (err as { code?: unknown })?.code } }, 'database unavailable');
    }
    throw translated ?? err;
  };
  // Some calls answer without a query (an empty id list): only a real round trip ends an outage.
  const succeeded = <V>(value: V): V => {
    if (down && !probing) {
      probing = true;
      store.ping().then(
        () => {
          probing = false;
          if (!down) return;
          down = false;
          log.info({}, 'database available again');
        },
        () => {
          probing = false;
        },
      );
    }
    return value;
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'close') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = value.apply(target, args);
        } catch (err) {
          return failed(err);
        }
        if (!(result instanceof Promise)) return result;
        return result.then(succeeded, failed);
      };
    },
  });
}
