import type { Dialect } from '../dialect.js';
import { registerHubRoutes } from './hub-routes.js';
import { handleHubUpgrade } from './hub-socket.js';

/** `hub`: REST under `/api/v1/chat/…` plus one JSON WebSocket per device at `/api/v1/ws`. */
export const hubDialect: Dialect = {
  name: 'hub',
  async register(ctx) {
    const upgrade = handleHubUpgrade(ctx);
    ctx.upgrades.add('/api/v1/ws', (req, socket, head) => {
      upgrade(req, socket, head).catch((err: unknown) => {
        ctx.log.error({ err: { message: (err as Error).message } }, 'hub upgrade failed');
        socket.destroy();
      });
    });
    await registerHubRoutes(ctx);
  },
};
