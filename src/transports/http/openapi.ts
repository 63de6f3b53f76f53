import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** Collects every route's schema into one OpenAPI document, served at /openapi.json and /docs. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'polychat',
        description:
          'One chat server, five APIs over one shared domain: hub (/api/v1/ws, /api/v1/chat/…), rooms (/api/v1/…), channels (/ws/chat/:id/), stomp (/api/chats…, /ws-chat) and Socket.IO (/socket.io/). Realtime protocols (every socket, frame, auth carrier and close code) are described in AsyncAPI 3 at [/docs/realtime](/docs/realtime) ([/asyncapi.json](/asyncapi.json)).',
        version: '0.1.0',
      },
      externalDocs: { description: 'Realtime API (AsyncAPI 3): /docs/realtime', url: '/docs/realtime' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
