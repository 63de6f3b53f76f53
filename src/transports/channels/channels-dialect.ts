import type { Dialect, DialectContext } from '../dialect.js';
import { channelsUpgradeHandler } from './channels-connect.js';

/**
 * `channels`: one JSON WebSocket per chat, Django Channels style (`ws/chat/{chat_id}/`).
 * The trailing slash is optional, as clients differ on it.
 */
export const channelsDialect: Dialect = {
  name: 'channels',
  register(ctx: DialectContext) {
    const handler = channelsUpgradeHandler(ctx);
    const run = (...args: Parameters<typeof handler>): void => {
      handler(...args).catch((err: unknown) => ctx.log.error({ err: (err as Error).message }, 'upgrade handler failed'));
    };
    ctx.upgrades.add('/ws/chat/:chat_id/', run);
    ctx.upgrades.add('/ws/chat/:chat_id', run);
  },
};
