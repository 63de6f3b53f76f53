import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { buildAsyncApiDocument } from './asyncapi-document.js';

export const ASYNCAPI_PATH = '/asyncapi.json';
export const REALTIME_DOCS_PATH = '/docs/realtime';

/** The React component's self-contained browser bundle (React and the parser inside) and its styles. */
function viewerFiles(): { script: string; styles: string } {
  const root = dirname(createRequire(import.meta.url).resolve('@asyncapi/react-component/package.json'));
  return { script: join(root, 'browser', 'standalone', 'index.js'), styles: join(root, 'styles', 'default.min.css') };
}

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>polychat realtime API (AsyncAPI)</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${REALTIME_DOCS_PATH}/asyncapi.css">
</head>
<body>
<div id="asyncapi">Loading ${ASYNCAPI_PATH} …</div>
<script src="${REALTIME_DOCS_PATH}/asyncapi.js"></script>
<script src="${REALTIME_DOCS_PATH}/render.js"></script>
</body>
</html>
`;

/** Fetches the document from this server and renders it; no request leaves the origin. */
const renderScript = `(async () => {
  const root = document.getElementById('asyncapi');
  try {
    const res = await fetch('${ASYNCAPI_PATH}');
    if (!res.ok) throw new Error('${ASYNCAPI_PATH} answered ' + res.status);
    const schema = await res.json();
    AsyncApiStandalone.render({ schema, config: { show: { sidebar: true, errors: true }, sidebar: { showServers: 'byDefault', showOperations: 'byOperationsTags' } } }, root);
  } catch (err) {
    root.textContent = 'Could not load the realtime API description: ' + err.message;
  }
})();
`;

/**
 * Only this origin. The bundled parser validates with ajv, which compiles schemas to functions
 * (`unsafe-eval`), and React sets style attributes (`unsafe-inline` styles); the page renders
 * this server's own document only, and no script comes from anywhere else.
 */
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-eval'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const secured = (reply: FastifyReply, type: string): FastifyReply =>
  reply.type(type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').header('content-security-policy', CSP);

/**
 * `GET /asyncapi.json`: the realtime half of every dialect as one AsyncAPI 3.0 document, and
 * `GET /docs/realtime`: a page rendering it with @asyncapi/react-component served from here.
 */
export function registerAsyncApi(app: FastifyInstance, options: { publicUrl: string | null }): void {
  const files = viewerFiles();
  const base = options.publicUrl ? new URL(options.publicUrl) : null;
  const documents = new Map<string, Record<string, unknown>>();

  app.get(ASYNCAPI_PATH, { schema: { hide: true } }, async (request, reply) => {
    // Servers name the host clients reach: PUBLIC_URL when set, else the one this request used.
    const host = base?.host ?? request.headers.host ?? 'localhost';
    const secure = base ? base.protocol === 'https:' : request.protocol === 'https';
    const key = `${secure ? 's' : ''}:${host}`;
    let doc = documents.get(key);
    if (!doc) {
      doc = buildAsyncApiDocument({ host, secure });
      // A bounded cache: Host is client-chosen.
      if (documents.size < 16) documents.set(key, doc);
    }
    return reply.header('cache-control', 'no-cache').send(doc);
  });
  app.get(REALTIME_DOCS_PATH, { schema: { hide: true } }, async (_request, reply) => secured(reply, 'text/html; charset=utf-8').send(page));
  app.get(`${REALTIME_DOCS_PATH}/render.js`, { schema: { hide: true } }, async (_request, reply) => secured(reply, 'text/javascript; charset=utf-8').send(renderScript));
  app.get(`${REALTIME_DOCS_PATH}/asyncapi.js`, { schema: { hide: true } }, async (_request, reply) => secured(reply, 'text/javascript; charset=utf-8').send(createReadStream(files.script)));
  app.get(`${REALTIME_DOCS_PATH}/asyncapi.css`, { schema: { hide: true } }, async (_request, reply) => secured(reply, 'text/css; charset=utf-8').send(createReadStream(files.styles)));
}
