import type { Dialect } from '../transports/dialect.js';
import { stompDialect } from '../transports/stomp/stomp-dialect.js';

/** Every dialect this server speaks, in registration order. */
export function allDialects(): Dialect[] {
  return [stompDialect()];
}
