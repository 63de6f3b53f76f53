import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { webcrypto } from 'node:crypto';
import { unauthorized } from '../domain/errors.js';
import type { ProfilePatch } from '../domain/user.js';

export interface Identity {
  readonly userId: string;
  /** Profile fields the token's claims carry; absent claims are absent here. */
  readonly profile: ProfilePatch;
  readonly expiresAt: number | null;
}

export interface TokenServiceOptions {
  readonly secret: string;
  readonly issuer: string | null;
  readonly audience: string | null;
  readonly jwksUrl: string | null;
  readonly ttlS: number;
}

const ASYMMETRIC = ['RS256', 'ES256'];

/**
 * Verifies and issues JWTs with `jose`. The algorithm is pinned per key: HS256 only with the
 * shared secret, RS256/ES256 only against the JWKS. `alg: none` and anything else is refused.
 */
export class TokenService {
  /**
   * Imported once: jose imports a raw `Uint8Array` secret into WebCrypto on every call
   * (measured on this machine: 65–119 µs per HS256 verify with the raw secret, 41 µs with the
   * key), and every REST request and socket upgrade verifies a token.
   */
  private readonly key: Promise<webcrypto.CryptoKey>;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | null;

  constructor(private readonly options: TokenServiceOptions) {
    this.key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(options.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    // A bad secret fails each verify and issue that awaits it, not the process.
    this.key.catch(() => {});
    this.jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : null;
  }

  async verify(token: string): Promise<Identity> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthorized('Invalid token');
    }
    const common = {
      ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
      ...(this.options.audience ? { audience: this.options.audience } : {}),
    };
    let payload: JWTPayload;
    try {
      if (alg === 'HS256') {
        ({ payload } = await jwtVerify(token, await this.key, { ...common, algorithms: ['HS256'] }));
      } else if (alg !== undefined && ASYMMETRIC.includes(alg) && this.jwks) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...common, algorithms: ASYMMETRIC }));
      } else {
        throw new Error('algorithm not accepted');
      }
    } catch (err) {
      const expired = (err as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw unauthorized(expired ? 'Token expired' : 'Invalid token');
    }
    if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 200) throw unauthorized('Token has no subject');
    // U+0000 cannot be stored in PostgreSQL: such a subject can never be a user.
    if (payload.sub.includes('\u0000')) throw unauthorized('Invalid token subject');
    return { userId: payload.sub, profile: profileFromClaims(payload), expiresAt: payload.exp !== undefined ? payload.exp * 1000 : null };
  }

  async issue(userId: string, claims: { username?: string | null; email?: string | null; name?: string | null }): Promise<{ token: string; expiresIn: number }> {
    const body: Record<string, string> = {};
    if (claims.username) body['username'] = claims.username;
    if (claims.email) body['email'] = claims.email;
    if (claims.name) body['name'] = claims.name;
    let jwt = new SignJWT(body).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(userId).setIssuedAt().setExpirationTime(`${this.options.ttlS}s`);
    if (this.options.issuer) jwt = jwt.setIssuer(this.options.issuer);
    if (this.options.audience) jwt = jwt.setAudience(this.options.audience);
    return { token: await jwt.sign(await this.key), expiresIn: this.options.ttlS };
  }
}

function claim(payload: JWTPayload, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = payload[name];
    if (typeof value === 'string' && value.length > 0 && value.length <= 200 && !value.includes('\u0000')) return value;
  }
  return undefined;
}

function profileFromClaims(payload: JWTPayload): ProfilePatch {
  const patch: { -readonly [K in keyof ProfilePatch]: ProfilePatch[K] } = {};
  const username = claim(payload, 'username', 'preferred_username');
  if (username !== undefined) patch.username = username;
  const email = claim(payload, 'email');
  if (email !== undefined) patch.email = email;
  const name = claim(payload, 'name');
  if (name !== undefined) patch.name = name;
  const first = claim(payload, 'first_name', 'given_name');
  if (first !== undefined) patch.firstName = first;
  const last = claim(payload, 'last_name', 'family_name');
  if (last !== undefined) patch.lastName = last;
  return patch;
}
