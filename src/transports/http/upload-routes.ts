import type { FastifyInstance } from 'fastify';
import type { FileStore } from '../../ports/file-store.js';

/** Serves stored images with the sniffed type; `nosniff` so a browser never reinterprets them. */
export function registerUploadRoutes(app: FastifyInstance, files: FileStore): void {
  app.get('/uploads/*', { schema: { tags: ['uploads'], summary: 'An uploaded image, read from disk or the S3 bucket (404 unknown key, 503 + Retry-After while storage is unreachable)' } }, async (request, reply) => {
    const key = (request.params as { '*': string })['*'];
    const file = await files.get(key);
    if (!file) return reply.status(404).send({ error: 'Not found' });
    return reply
      .header('content-type', file.type)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(file.bytes);
  });
}
