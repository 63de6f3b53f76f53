import type { Dialect } from '../transports/dialect.js';
import { channelsDialect } from '../transports/channels/channels-dialect.js';
import { hubDialect } from '../transports/hub/hub-dialect.js';
import { roomsDialect } from '../transports/rooms/rooms-dialect.js';
import { socketioDialect } from '../transports/socketio/socketio-dialect.js';
import { stompDialect } from '../transports/stomp/stomp-dialect.js';

/** Every dialect this server speaks, in registration order. */
export function allDialects(): Dialect[] {
  return [hubDialect, roomsDialect(), channelsDialect, stompDialect(), socketioDialect()];
}
