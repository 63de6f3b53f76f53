import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseId } from '../../core/paging.js';
import { isUnavailable, refusesChat } from '../../domain/errors.js';
import type { DialectContext } from '../dialect.js';
import { redactUrl, tokenFromRequest } from '../shared/bearer-token.js';
import { admissionRefusal } from './channels-errors.js';
import { ChannelsSession } from './channels-session.js';
import { connectionEstablishedFrame } from './channels-wire.js';
import { ChannelsClose, type ChannelsCloseReason } from './close-codes.js';

type Verdict = { readonly ok: true; readonly userId: string; readonly chatId: number } | { readonly ok: false; readonly close: ChannelsCloseReason };

/**
 * Decides a connection before the handshake completes: who (token), and may they be in this
 * chat. Unknown, malformed and foreign chat ids are refused alike, so ids cannot be probed.
 */
async function admit(ctx: DialectContext, req: IncomingMessage, rawChatId: string): Promise<Verdict> {
  const path = redactUrl(req.url);
  let userId: string;
  try {
    userId = (await ctx.core.authenticate(tokenFromRequest(req.headers, req.url))).id;
  } catch (err) {
    const close = admissionRefusal(err);
    if (close !== ChannelsClose.unauthorized) throw err;
    ctx.log.warn({ path, remote: req.socket.remoteAddress, reason: (err as Error).message }, 'authentication failed');
    return { ok: false, close };
  }
  try {
    const chatId = parseId(rawChatId, 'chat id');
    await ctx.core.checkAccess(userId, chatId);
    return { ok: true, userId, chatId };
  } catch (err) {
    const close = admissionRefusal(err);
    if (close !== ChannelsClose.forbidden) throw err;
    ctx.log.warn({ path, userId, chatId: rawChatId.slice(0, 40), reason: (err as Error).message }, 'access denied');
    return { ok: false, close };
  }
}

/** The upgrade handler of `/ws/chat/:chat_id/`. */
export function channelsUpgradeHandler(ctx: DialectContext) {
  return async (req: IncomingMessage, socket: Duplex, head: Buffer, params: Record<string, string>): Promise<void> => {
    // Node drops its own error listener on upgrade: a peer resetting while we authenticate must not crash us.
    socket.on('error', () => {});
    let verdict: Verdict;
    try {
      verdict = await admit(ctx, req, params['chat_id'] ?? '');
    } catch (err) {
      if (isUnavailable(err)) {
        // Logged once where the outage was detected; the client is told to retry.
        verdict = { ok: false, close: ChannelsClose.unavailable };
      } else {
        ctx.log.error({ path: redactUrl(req.url), err: (err as Error).message }, 'connection setup failed');
        verdict = { ok: false, close: ChannelsClose.internal };
      }
    }
    // The peer gave up while we were checking: ws would never call back on a dead socket.
    if (socket.destroyed || !socket.writable) return;
    const ws = await ctx.ws.upgrade(req, socket, head);
    if (!verdict.ok) {
      // The seed's clients see a socket that opens and is "closed automatically": no event before the close.
      ws.close(verdict.close.code, verdict.close.reason);
      return;
    }
    const { userId, chatId } = verdict;
    const session = new ChannelsSession(ctx.registry.newSessionId(), userId, chatId, ws, ctx.core, ctx.log);
    ws.on('message', (data, isBinary) => session.receive(data, isBinary));
    ws.on('close', (code) => {
      session.onClosed();
      ctx.log.debug({ userId, chatId, sessionId: session.id, code }, 'disconnected from chat');
      void ctx.registry.remove(session);
    });

    // One connection per user per chat, on every instance: the newest wins.
    ctx.registry.claimExclusive(session, `chat:${chatId}`, (by) => {
      ctx.log.info({ userId, chatId, sessionId: session.id, by }, 'connection replaced');
      session.close(ChannelsClose.replaced.code, ChannelsClose.replaced.reason);
    });
    // Written before the session is registered, so no event can overtake it.
    ws.send(connectionEstablishedFrame(chatId));
    ctx.log.debug({ userId, chatId, sessionId: session.id }, 'connected to chat');
    await ctx.registry.add(session);
    // A removal that committed between the access check and registration found no session to close.
    try {
      await ctx.core.checkAccess(userId, chatId);
    } catch (err) {
      if (refusesChat(err)) session.close(ChannelsClose.forbidden.code, ChannelsClose.forbidden.reason);
    }
  };
}
