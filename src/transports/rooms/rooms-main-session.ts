import type { WebSocket } from 'ws';
import { badRequest } from '../../domain/errors.js';
import type { DomainEvent } from '../../domain/events.js';
import { displayName } from '../../domain/user.js';
import type { Logger } from '../../ports/logger.js';
import { encodeOnce } from '../../realtime/encode-once.js';
import type { Session } from '../../realtime/session.js';
import { PreparedFrame } from '../shared/prepared-frame.js';
import { sendBounded } from '../shared/ws-gateway.js';
import { errorFrame } from './rooms-errors.js';
import { wireMessage } from './rooms-wire.js';

/**
 * `/api/v1/main`: a `last_message` for every new message in any chat of the user, whichever
 * dialect sent it. It only receives; a frame from the client gets an error frame.
 */
export class RoomsMainSession implements Session {
  readonly dialect = 'rooms' as const;

  constructor(
    readonly id: string,
    readonly userId: string,
    private readonly ws: WebSocket,
    log: Logger,
  ) {
    ws.on('message', () => {
      sendBounded(ws, errorFrame(badRequest('The main socket only receives; send messages on the chat socket'), log));
    });
  }

  handle(event: DomainEvent): boolean {
    if (event.type !== 'message.created') return false;
    const data = encodeOnce(event, 'rooms:last_message', () => new PreparedFrame(JSON.stringify(wireMessage(event.message, displayName(event.sender), 'last_message'))));
    return sendBounded(this.ws, data);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
}
