import { pino, type Logger as Pino } from 'pino';
import { redactUrl } from '../transports/shared/bearer-token.js';

interface RequestLike {
  method?: string;
  url?: string;
  ip?: string;
}

/**
 * JSON logs. Tokens never reach a line: Authorization headers are not serialized, `?token=`
 * is masked in URLs, and errors are logged as type + message, without stacks.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Pino {
  return pino(
    {
      level,
      base: { service: 'polychat' },
      serializers: {
        req: (req: RequestLike) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: (err: unknown) =>
          err instanceof Error ? { type: err.name, message: err.message, code: (err as { code?: unknown }).code } : typeof err === 'object' ? err : { message: String(err) },
      },
      redact: { paths: ['headers.authorization', 'req.headers.authorization', 'password', '*.password', 'token', '*.token'], censor: '[redacted]' },
    },
    destination as pino.DestinationStream | undefined,
  );
}
