import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger as Pino } from 'pino';
import { MemoryBroker } from '../bus/memory-broker.js';
import { MemoryPresenceStore } from '../bus/memory-presence-store.js';
import { MemoryRateLimiter } from '../bus/memory-rate-limiter.js';
import type { ChatCore } from '../core/chat-core.js';
import { createCore } from '../core/create-core.js';
import { defaultCoreSettings } from '../core/core-settings.js';
import { DiskFileStore } from '../files/disk-file-store.js';
import { TokenService } from '../identity/token-service.js';
import type { Broker } from '../ports/broker.js';
import type { FileStore } from '../ports/file-store.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { PresenceStore } from '../ports/presence-store.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { Store } from '../ports/store.js';
import { SessionRegistry } from '../realtime/session-registry.js';
import { openPostgresStore } from '../storage/postgres/open-postgres-store.js';
import { openSqliteStore } from '../storage/sqlite/open-sqlite-store.js';
import { registerAsyncApi } from '../transports/asyncapi/asyncapi-routes.js';
import type { Dialect } from '../transports/dialect.js';
import { registerAuthRoutes } from '../transports/http/auth-routes.js';
import { makeAuthenticate } from '../transports/http/authenticate.js';
import { registerHealthRoutes } from '../transports/http/health-routes.js';
import { installHttpErrors } from '../transports/http/http-errors.js';
import { registerOpenApi } from '../transports/http/openapi.js';
import { registerUploadRoutes } from '../transports/http/upload-routes.js';
import { registerUserRoutes } from '../transports/http/user-routes.js';
import { registerWebRoutes } from '../transports/http/web-routes.js';
import { UpgradeRouter } from '../transports/shared/upgrade-router.js';
import { WsGateway } from '../transports/shared/ws-gateway.js';
import { ConfigError, type Config } from './config.js';
import { createLogger } from './create-logger.js';
import { allDialects } from './dialects.js';
import { resolveJwtSecret } from './jwt-secret.js';
import { Metrics } from './metrics.js';

export interface BuildOptions {
  readonly logger?: Pino;
  readonly clock?: Clock;
  readonly dialects?: readonly Dialect[];
  /** Overrides for core timings (tests shorten the typing TTL, receipt flushes, …). */
  readonly coreOverrides?: Partial<typeof defaultCoreSettings>;
}

export interface ChatServer {
  readonly app: FastifyInstance;
  readonly core: ChatCore;
  readonly registry: SessionRegistry;
  readonly store: Store;
  readonly broker: Broker;
  readonly config: Config;
  readonly log: Logger;
  listen(): Promise<string>;
  /** Graceful: stop accepting, close sockets with 1001, finish in-flight writes, release everything. */
  close(): Promise<void>;
}

interface Infrastructure {
  readonly broker: Broker;
  readonly presence: PresenceStore;
  readonly limiter: RateLimiter;
  readonly checks: Record<string, () => Promise<void>>;
  close(): Promise<void>;
}

async function openInfrastructure(config: Config, log: Logger): Promise<Infrastructure> {
  if (config.redisUrl) {
    const { openRedisInfrastructure } = await import('../bus/redis/open-redis-infrastructure.js');
    return openRedisInfrastructure({ url: config.redisUrl, prefix: config.redisPrefix, log });
  }
  if (config.redisClusterNodes) {
    const { openRedisClusterInfrastructure } = await import('../bus/redis/open-redis-cluster-infrastructure.js');
    return openRedisClusterInfrastructure({ nodes: config.redisClusterNodes, prefix: config.redisPrefix, log });
  }
  const broker = new MemoryBroker(log);
  const presence = new MemoryPresenceStore();
  return {
    broker,
    presence,
    limiter: new MemoryRateLimiter(),
    checks: {},
    close: async () => {
      await broker.close();
      await presence.close();
    },
  };
}

/**
 * Uploads on disk, or in an S3 bucket when S3_ENDPOINT is set. Either way `/uploads/<key>` on
 * this server serves them; with S3_PUBLIC_URL the returned URLs point at the bucket instead.
 * A bucket that does not exist stops the start (a typo); storage that refuses or cannot be
 * reached only warns, since chat works without uploads and they answer 503 meanwhile.
 */
async function openFileStore(config: Config, log: Logger): Promise<FileStore> {
  const serveUrl = `${config.publicUrl ?? ''}/uploads`;
  const fileLog = log.child({ component: 'files' });
  if (!config.s3) return new DiskFileStore(config.uploadDir, serveUrl, fileLog);
  const { S3FileStore } = await import('../files/s3-file-store.js');
  const files = new S3FileStore({ ...config.s3, serveUrl, log: fileLog });
  const check = await files.checkBucket();
  if (check === 'missing') {
    files.close();
    throw new ConfigError('S3_BUCKET', `bucket '${config.s3.bucket}' does not exist at S3_ENDPOINT`);
  }
  const where = { endpoint: new URL(config.s3.endpoint).origin, bucket: config.s3.bucket };
  if (check === 'refused') log.warn(where, 'S3 refused the start check (credentials or bucket policy): uploads answer 503 if it refuses them too');
  if (check === 'unreachable') log.warn(where, 'S3 not reachable at start: uploads answer 503 until it is');
  return files;
}

/** The composition root: the only place that knows every implementation. Does not listen. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<ChatServer> {
  const pino = options.logger ?? createLogger(config.logLevel);
  const log = pino as unknown as Logger;
  const files = await openFileStore(config, log);

  let store: Store;
  try {
    store = config.databaseUrl ? await openPostgresStore(config.databaseUrl, { log: log.child({ component: 'storage' }) }) : await openSqliteStore(`${config.dataDir}/chat.db`);
  } catch (err) {
    files.close?.();
    throw err;
  }
  let infra: Infrastructure;
  try {
    infra = await openInfrastructure(config, log);
  } catch (err) {
    files.close?.();
    await store.close();
    throw err;
  }
  const secret = await resolveJwtSecret(config.jwtSecret, store, config.dataDir, log);
  const tokens = new TokenService({ secret, issuer: config.jwtIssuer, audience: config.jwtAudience, jwksUrl: config.jwksUrl, ttlS: config.jwtTtlS });
  const core = createCore({
    store,
    broker: infra.broker,
    presence: infra.presence,
    limiter: infra.limiter,
    files,
    tokens,
    clock: options.clock ?? systemClock,
    log,
    settings: {
      ...defaultCoreSettings,
      maxMessageLength: config.maxMessageLength,
      rateLimitMessages: config.rateLimitMessages,
      rateLimitWindowMs: config.rateLimitWindowS * 1000,
      maxUploadBytes: config.maxUploadBytes,
      maxPageChats: config.maxPageChats,
      largeGroupSize: config.largeGroupSize,
      rateLimitConnections: config.rateLimitConnections,
      ...options.coreOverrides,
    },
  });

  // Users of a crashed (or shutting-down) instance: announce them offline like a last disconnect.
  infra.presence.onExpired?.((userId, lastSeen) => core.presenceExpired(userId, lastSeen));

  const metrics = new Metrics();
  const registry = new SessionRegistry(core, infra.broker, log, metrics, config.maxConnectionsPerUser);
  metrics.trackConnections(registry);
  // After a Redis outage the bus is back, but events published meanwhile were missed on this
  // instance. Clients recover by seq (history) after their own reconnects; nothing is pushed.
  infra.broker.onResubscribed?.(() => {
    metrics.busResubscribed();
    log.warn({}, 'bus resubscribed after a lost link: events published meanwhile were missed; clients catch up by seq');
  });
  registry.start();

  const app = Fastify({
    loggerInstance: pino as FastifyBaseLogger,
    bodyLimit: config.maxBodyBytes,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    return503OnClosing: true,
    // A request (or WebSocket upgrade) that never finishes its headers or body is dropped, not kept.
    requestTimeout: config.httpRequestTimeoutMs,
    http: {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      // Node checks those timeouts on this period (30 s by default): keep it finer than the timeout.
      connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(config.httpHeadersTimeoutMs / 4))),
    },
    // Errors the router raises before any route runs (malformed URL encoding, …) keep the JSON shape.
    frameworkErrors: (err, _request, reply) => {
      reply.statusCode = err.statusCode ?? 400;
      void reply.send({ error: err.message } as never);
    },
    // One line per request only at debug: connection and error lines carry the signal in production.
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
  });
  app.decorateRequest('user', null);
  installHttpErrors(app, log);
  await registerOpenApi(app);
  await app.register(multipart, {
    limits: { fileSize: config.maxUploadBytes, files: 4, fields: 20, fieldSize: 256 * 1024, parts: 30 },
  });

  registerHealthRoutes(app, {
    metrics: metrics.registry,
    checks: { database: () => store.ping(), ...infra.checks },
  });
  const authenticate = makeAuthenticate(core);
  registerAuthRoutes(app, core, authenticate);
  registerUserRoutes(app, core, authenticate);
  registerUploadRoutes(app, files);
  await registerWebRoutes(app);
  registerAsyncApi(app, { publicUrl: config.publicUrl });

  const upgrades = new UpgradeRouter(config.handshakeTimeoutMs);
  const ws = new WsGateway({ maxFrameBytes: config.maxFrameBytes, maxBufferedBytes: config.maxBufferedBytes, pingIntervalMs: config.wsPingIntervalMs });
  const dialects = options.dialects ?? allDialects();
  for (const dialect of dialects) {
    const settings = { maxFrameBytes: config.maxFrameBytes, maxBodyBytes: config.maxBodyBytes, handshakeTimeoutMs: config.handshakeTimeoutMs };
    await dialect.register({ app, core, registry, upgrades, ws, settings, log: log.child({ dialect: dialect.name }), authenticate });
  }
  upgrades.attach(app.server);
  await app.ready();

  let closing: Promise<void> | null = null;
  return {
    app,
    core,
    registry,
    store,
    broker: infra.broker,
    config,
    log,
    async listen() {
      return app.listen({ host: config.host, port: config.port });
    },
    close() {
      closing ??= (async () => {
        registry.closeAll(1001, 'server shutting down');
        await Promise.all([ws.close(), ...dialects.map((dialect) => dialect.close?.())]);
        await app.close();
        await core.drain();
        registry.stop();
        await infra.close();
        await store.close();
        files.close?.();
      })();
      return closing;
    },
  };
}
