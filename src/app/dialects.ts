import { channelsDialect } from '../transports/channels/channels-dialect.js';
import type { Dialect } from '../transports/dialect.js';

/** Every dialect this server speaks, in registration order. */
export function allDialects(): Dialect[] {
  return [channelsDialect];
}
