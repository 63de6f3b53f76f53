import type { CoreContext } from '../core-context.js';
import { publishEvent } from '../event-topics.js';

/**
 * A live connection of any dialect opened. The first one of a user (across instances)
 * announces `online` on the topics of its chats (see `event-topics.ts`).
 */
export async function connectionOpened(ctx: CoreContext, userId: string, connectionId: string): Promise<void> {
  const { becameOnline } = await ctx.presence.connect(userId, connectionId, ctx.clock.now());
  if (becameOnline) await announce(ctx, userId, true, null);
}

/** The last connection of a user closed: `offline` with `last_seen`. */
export async function connectionClosed(ctx: CoreContext, userId: string, connectionId: string): Promise<void> {
  const { becameOffline, lastSeen } = await ctx.presence.disconnect(userId, connectionId, ctx.clock.now());
  if (becameOffline) await announce(ctx, userId, false, lastSeen);
}

/** Also used by the Redis presence store when it finds a crashed instance's users. */
export async function announce(ctx: CoreContext, userId: string, online: boolean, lastSeen: number | null): Promise<void> {
  // One query, and one publish per chat of the user: no work per contact, online or not.
  const chatIds = await ctx.store.chatIdsOf(userId);
  publishEvent(ctx.broker, { type: 'presence', userId, online, lastSeen, chatIds });
}
