import type { Dialect } from '../dialect.js';
import { NameBook } from './name-book.js';
import { registerRoomsChatRoutes } from './rooms-chat-routes.js';
import { registerRoomsGroupRoutes } from './rooms-group-routes.js';
import { registerRoomsSockets } from './rooms-sockets.js';
import { registerRoomsUserRoutes } from './rooms-user-routes.js';

/**
 * The `rooms` dialect (seed 001): REST under `/api/v1` (multipart for photos), one WebSocket
 * per chat (`/api/v1/chat/:id`, `/api/v1/group/:id`) and a per-user `/api/v1/main` socket.
 */
export function roomsDialect(): Dialect {
  return {
    name: 'rooms',
    register(ctx) {
      registerRoomsUserRoutes(ctx.app, ctx.core, ctx.authenticate);
      registerRoomsChatRoutes(ctx.app, ctx.core, ctx.authenticate);
      registerRoomsGroupRoutes(ctx.app, ctx.core, ctx.authenticate);
      registerRoomsSockets(ctx, new NameBook());
    },
  };
}
