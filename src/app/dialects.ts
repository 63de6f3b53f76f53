import type { Dialect } from '../transports/dialect.js';
import { roomsDialect } from '../transports/rooms/rooms-dialect.js';

/** Every dialect this server speaks, in registration order. */
export function allDialects(): Dialect[] {
  return [roomsDialect()];
}
