import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatCore } from '../../core/chat-core.js';
import { unauthorized } from '../../domain/errors.js';
import type { User } from '../../domain/user.js';
import { tokenFromRequest } from '../shared/bearer-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
  }
}

export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * An `onRequest` hook that verifies the caller's token once per request and sets `request.user`.
 * It runs before the body is read or any schema is checked, so an anonymous caller gets 401
 * whatever it sends and never learns a route's schema (SPEC: authenticate, then validate).
 */
export function makeAuthenticate(core: ChatCore): Authenticate {
  return async (request) => {
    request.user = await core.authenticate(tokenFromRequest(request.headers, request.url));
  };
}

/** The authenticated user of a route guarded by `authenticate`. */
export function actor(request: FastifyRequest): User {
  if (!request.user) throw unauthorized();
  return request.user;
}
