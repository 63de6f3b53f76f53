import type { FastifyInstance } from 'fastify';
import type { Session } from '../../core/actions/accounts.js';
import type { ChatCore } from '../../core/chat-core.js';
import { actor, type Authenticate } from './authenticate.js';
import { badRequest } from '../../domain/errors.js';

const credentials = {
  type: 'object',
  properties: {
    username: { type: 'string' },
    email: { type: 'string' },
    password: { type: 'string' },
    name: { type: 'string' },
  },
} as const;

function body(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('Body must be a JSON object');
  return raw as Record<string, unknown>;
}

function render(session: Session) {
  const { user } = session;
  return {
    accessToken: session.accessToken,
    tokenType: session.tokenType,
    expiresIn: session.expiresIn,
    user: { id: user.id, username: user.username, email: user.email, name: user.name },
  };
}

/** Built-in accounts (the `stomp` seed's `/auth/register` and `/auth/login`). */
export function registerAuthRoutes(app: FastifyInstance, core: ChatCore, authenticate: Authenticate): void {
  app.post(
    '/auth/register',
    { schema: { tags: ['auth'], summary: 'Create a built-in account and get a token', body: { ...credentials, required: ['username', 'password'] } } },
    async (request, reply) => reply.status(201).send(render(await core.register(body(request.body)))),
  );
  app.post(
    '/auth/login',
    { schema: { tags: ['auth'], summary: 'Log in with username or email and password', body: { ...credentials, required: ['password'] } } },
    async (request) => render(await core.login(body(request.body))),
  );
  app.get(
    '/auth/whoami',
    { schema: { tags: ['auth'], summary: 'The authenticated user, as the server knows it' }, onRequest: authenticate },
    async (request) => {
      const user = actor(request);
      return { id: user.id, username: user.username, name: user.name, firstName: user.firstName, lastName: user.lastName, email: user.email };
    },
  );
}
