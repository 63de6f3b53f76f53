import { StompProtocolError, type StompFrame } from './stomp-frame.js';

/** The commands a connection acts on; everything else about a frame is decided here. */
export interface StompFrameHandlers {
  isConnected(): boolean;
  connect(frame: StompFrame): Promise<void>;
  subscribe(frame: StompFrame): Promise<void>;
  unsubscribe(frame: StompFrame): void;
  send(frame: StompFrame): Promise<void>;
  disconnect(frame: StompFrame): void;
  /** RECEIPT for a frame that asked for one, once it has been handled. */
  receipt(frame: StompFrame): void;
}

/**
 * One client frame to its handler. CONNECT comes once and first; ACK, NACK, BEGIN, COMMIT and
 * ABORT are tolerated without effect (subscriptions are auto-ack, sends immediate).
 */
export async function dispatchFrame(frame: StompFrame, on: StompFrameHandlers): Promise<void> {
  const { command } = frame;
  if (command === 'CONNECT' || command === 'STOMP') {
    if (on.isConnected()) throw new StompProtocolError('Already connected', 'CONNECT was sent twice');
    await on.connect(frame);
    return;
  }
  if (!on.isConnected()) throw new StompProtocolError('Not connected', `Send CONNECT before ${command}`);
  switch (command) {
    case 'SUBSCRIBE':
      await on.subscribe(frame);
      break;
    case 'UNSUBSCRIBE':
      on.unsubscribe(frame);
      break;
    case 'SEND':
      await on.send(frame);
      break;
    case 'DISCONNECT':
      // The RECEIPT goes out before the close: a client waits for it to know all was handled.
      on.receipt(frame);
      on.disconnect(frame);
      return;
    default:
      break;
  }
  on.receipt(frame);
}
