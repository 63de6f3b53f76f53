import type { IncomingHttpHeaders } from 'node:http';
import { tokenFromAuthorization, tokenFromRequest } from '../shared/bearer-token.js';

/**
 * Every carrier SPEC allows on a Socket.IO handshake, in order: `auth.token` (with or without
 * `Bearer `), the `Authorization` header (`extraHeaders`, non-browser clients), `?token=` /
 * `?access_token=` on the URL (`query` option).
 */
export function handshakeToken(handshake: { readonly auth: unknown; readonly headers: IncomingHttpHeaders; readonly url: string }): string | null {
  const auth = typeof handshake.auth === 'object' && handshake.auth !== null ? (handshake.auth as Record<string, unknown>) : undefined;
  const fromAuth = tokenFromAuthorization(auth?.['token']);
  if (fromAuth) return fromAuth;
  return tokenFromRequest(handshake.headers, handshake.url);
}
