import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** `web/` at the project root, from `src/transports/http/` (tsx) and `dist/transports/http/` alike. */
export const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

/**
 * The browser client at `/`: plain ES modules and CSS from `web/`, nothing fetched elsewhere.
 * `wildcard: false` registers one GET route per file found at start (and `/` for index.html),
 * so no catch-all route can shadow the APIs, `/docs`, `/uploads/`, `/socket.io/` or `/ws-chat`.
 */
export async function registerWebRoutes(app: FastifyInstance, root = WEB_ROOT): Promise<void> {
  if (!existsSync(root)) return;
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    decorateReply: false,
    // The files are small and change with every deploy: revalidate (ETag) rather than cache blindly.
    cacheControl: false,
    setHeaders: (res) => {
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader(
        'content-security-policy',
        "default-src 'self'; img-src * data: blob:; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
      );
    },
  });
}
