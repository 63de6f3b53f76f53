import type { ChatCore } from '../../core/chat-core.js';
import { isUnavailable } from '../../domain/errors.js';
import type { User } from '../../domain/user.js';
import type { Logger } from '../../ports/logger.js';
import { tokenFromAuthorization } from '../shared/bearer-token.js';
import { StompProtocolError, type StompFrame } from './stomp-frame.js';

/**
 * The user a CONNECT authenticates as. The token is looked for in the `Authorization` header
 * (`Bearer <jwt>`), then a `token` header (clients that cannot set Authorization), then the
 * handshake URL or headers; a refused one is a protocol error, an outage is passed on as is
 * (ERROR with retry-after, not "Unauthorized").
 */
export async function authenticateConnect(core: ChatCore, log: Logger, frame: StompFrame, handshakeToken: string | null, transport: string): Promise<User> {
  const h = frame.headers;
  const token = tokenFromAuthorization(h.get('Authorization') ?? h.get('authorization')) ?? tokenFromAuthorization(h.get('token')) ?? handshakeToken;
  try {
    return await core.authenticate(token);
  } catch (err) {
    if (isUnavailable(err)) throw err;
    log.info({ dialect: 'stomp', transport, reason: token ? 'invalid token' : 'no token' }, 'auth failure');
    throw new StompProtocolError('Unauthorized', 'A valid token is required: CONNECT header Authorization: Bearer <jwt> (or token), or ?token= on the URL');
  }
}
