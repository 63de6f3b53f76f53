import type { FastifyInstance } from 'fastify';
import type { ChatCore } from '../core/chat-core.js';
import type { Logger } from '../ports/logger.js';
import type { SessionRegistry } from '../realtime/session-registry.js';
import type { DialectName } from '../realtime/session.js';
import type { Authenticate } from './http/authenticate.js';
import type { UpgradeRouter } from './shared/upgrade-router.js';
import type { WsGateway } from './shared/ws-gateway.js';
import type { TransportSettings } from './transport-settings.js';

/** What a dialect gets to plug itself in: routes, upgrades, the core and the session registry. */
export interface DialectContext {
  readonly app: FastifyInstance;
  readonly core: ChatCore;
  readonly registry: SessionRegistry;
  readonly upgrades: UpgradeRouter;
  readonly ws: WsGateway;
  readonly settings: TransportSettings;
  readonly log: Logger;
  readonly authenticate: Authenticate;
}

export interface Dialect {
  readonly name: DialectName;
  register(ctx: DialectContext): void | Promise<void>;
  /** Stops accepting and closes this dialect's own servers (shutdown). */
  close?(): Promise<void>;
}
