import type { IncomingHttpHeaders } from 'node:http';

/** The token from `Authorization: Bearer …` (the prefix is optional, case-insensitive). */
export function tokenFromAuthorization(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  const token = /^bearer\s+/i.test(trimmed) ? trimmed.replace(/^bearer\s+/i, '') : trimmed;
  return token === '' ? null : token;
}

/**
 * Every carrier SPEC lists for HTTP and WebSocket upgrades: the Authorization header, and,
 * for browsers that cannot set headers on a WebSocket, `?token=` or `?access_token=`.
 */
export function tokenFromRequest(headers: IncomingHttpHeaders, url: string | undefined): string | null {
  const fromHeader = tokenFromAuthorization(headers.authorization);
  if (fromHeader) return fromHeader;
  if (!url) return null;
  const q = url.indexOf('?');
  if (q < 0) return null;
  const params = new URLSearchParams(url.slice(q + 1));
  return params.get('token') || params.get('access_token') || null;
}

/** A URL with its query string's secrets masked, for logs. */
export function redactUrl(url: string | undefined): string {
  if (!url) return '';
  return url.replace(/([?&](?:token|access_token)=)[^&#]*/gi, '$1[redacted]');
}
