import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData } from 'ws';
import type { DialectContext } from '../dialect.js';
import { redactUrl, tokenFromRequest } from '../shared/bearer-token.js';
import { FrameQueue } from '../shared/frame-queue.js';
import { rawToBuffer } from '../shared/raw-data.js';
import { rejectUpgrade } from '../shared/upgrade-router.js';
import { runClientFrame } from './hub-client-frames.js';
import { hubFrameError, hubUpgradeRefusal } from './hub-errors.js';
import { HubSession } from './hub-session.js';

/** Frames a socket may have in flight; past it the client gets an error instead of a queue. */
const MAX_PENDING_FRAMES = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `GET /api/v1/ws`: authenticate the upgrade (header, `?token=` or `?access_token=`), refuse it
 * with a plain 401 otherwise, then run one session for the user.
 */
export function handleHubUpgrade(ctx: DialectContext) {
  return async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    let userId: string;
    try {
      userId = (await ctx.core.authenticate(tokenFromRequest(req.headers, req.url))).id;
    } catch (err) {
      const refusal = hubUpgradeRefusal(err);
      if (refusal.status === 401) ctx.log.info({ url: redactUrl(req.url), reason: refusal.message }, 'auth failure');
      rejectUpgrade(socket, refusal.status, refusal.text, JSON.stringify({ error: refusal.message }));
      return;
    }
    const ws = await ctx.ws.upgrade(req, socket, head);
    const session = new HubSession(ctx.registry.newSessionId(), userId, ws);
    // Frames of one socket run one after another, so its messages keep the order they were sent in.
    const frames = new FrameQueue(MAX_PENDING_FRAMES);
    const onError = (err: unknown): void => {
      const failure = hubFrameError(err);
      if (failure.log === 'access denied') ctx.log.info({ userId, reason: failure.message }, 'access denied');
      else if (failure.log === 'internal') ctx.log.error({ err: { type: (err as Error)?.name, message: (err as Error)?.message } }, 'hub frame failed');
      session.sendError(failure.message);
    };

    ws.on('message', (raw: RawData, isBinary: boolean) => {
      // `ws` itself closes a text frame that is not UTF-8 with 1007 (RFC 6455). A binary frame
      // holding UTF-8 is read like text; any other binary frame is just not a valid request, and
      // goes through the queue as one so that its `Invalid JSON` error keeps its place in order.
      let text: string;
      try {
        text = isBinary ? utf8.decode(rawToBuffer(raw)) : rawToBuffer(raw).toString('utf8');
      } catch {
        text = '';
      }
      const run = async (): Promise<void> => {
        const replay = await runClientFrame(ctx.core, userId, text);
        if (replay) session.handle(replay);
      };
      if (!frames.push(run, onError)) session.sendError('Too many requests in flight');
    });

    const added = ctx.registry.add(session);
    ws.on('close', () => {
      void added.then(() => ctx.registry.remove(session));
    });
  };
}
