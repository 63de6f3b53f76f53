import { CLOSE_SLOW_CONSUMER } from '../shared/ws-gateway.js';
import type { CloseCodeDoc } from './realtime-doc.js';

/** What the shared WebSocket gateway closes any plain-WebSocket dialect with (RFC 6455 codes). */
export const transportCloseCodes: readonly CloseCodeDoc[] = [
  { code: 1001, reason: 'server shutting down', when: 'graceful shutdown' },
  { code: 1007, reason: '', when: 'a text frame that is not valid UTF-8' },
  { code: 1009, reason: '', when: 'a frame larger than MAX_FRAME_BYTES (64 KiB by default)' },
  { code: CLOSE_SLOW_CONSUMER, reason: 'slow consumer', when: 'the client reads too slowly: its send buffer passed MAX_BUFFERED_BYTES; reconnect and catch up by seq / history' },
];
