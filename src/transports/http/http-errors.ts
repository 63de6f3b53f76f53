import type { FastifyError, FastifyInstance } from 'fastify';
import { isChatError, RETRY_AFTER_S } from '../../domain/errors.js';
import type { Logger } from '../../ports/logger.js';
import { discardBody } from './discard-body.js';

/**
 * The HTTP mapper: every error leaves as `{"error": "<message>"}` with its status. Client
 * mistakes Fastify itself catches (bad JSON, body too large, validation) keep their 4xx;
 * a dependency outage is 503 with `Retry-After`; anything unexpected is a bare 500 and is
 * logged without stack or request secrets.
 */
export function installHttpErrors(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    // A refusal that comes before the body was read (401, 413, a multipart part too large):
    // let the client finish sending so that it reads the answer instead of a reset.
    if (!(await discardBody(request.raw))) reply.header('connection', 'close');
    if (isChatError(err)) {
      if (err.code === 'forbidden') log.info({ url: request.routeOptions.url, userId: request.user?.id, reason: err.message }, 'access denied');
      // An outage (logged once where it is detected) tells the client when to try again.
      if (err.code === 'unavailable') reply.header('retry-after', String(RETRY_AFTER_S));
      return reply.status(err.status).send({ error: err.message });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'Request body is too large' : err.validation ? `Invalid request: ${err.message}` : err.message;
      return reply.status(status).send({ error: message });
    }
    log.error({ err: { type: err.name, message: err.message, code: err.code }, url: request.routeOptions.url }, 'request failed');
    return reply.status(500).send({ error: 'Internal server error' });
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error: 'Not found' }));
}
