import { resolve } from 'node:path';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly databaseUrl: string | null;
  readonly redisUrl: string | null;
  /** REDIS_CLUSTER_NODES: seed nodes of a Redis Cluster (≥ 7); the rest are discovered. */
  readonly redisClusterNodes: readonly RedisNode[] | null;
  readonly redisPrefix: string;
  readonly jwtSecret: string | null;
  readonly jwtIssuer: string | null;
  readonly jwtAudience: string | null;
  readonly jwksUrl: string | null;
  readonly jwtTtlS: number;
  readonly maxMessageLength: number;
  readonly rateLimitMessages: number;
  readonly rateLimitWindowS: number;
  readonly uploadDir: string;
  readonly s3: { endpoint: string; region: string; bucket: string; accessKey: string; secretKey: string; publicUrl: string | null } | null;
  readonly maxUploadBytes: number;
  readonly maxBodyBytes: number;
  readonly maxFrameBytes: number;
  readonly maxConnectionsPerUser: number;
  readonly maxBufferedBytes: number;
  /** WebSocket ping interval; a peer that answers no ping for two intervals is dropped. */
  readonly wsPingIntervalMs: number;
  /** Longest page of chats a list answers (larger or missing limits are capped, not refused). */
  readonly maxPageChats: number;
  /** Groups above this many members get throttled typing/presence and coalesced STOMP receipts. */
  readonly largeGroupSize: number;
  /** Connections one user may open per RATE_LIMIT_WINDOW_S, all dialects together; 0 = off. */
  readonly rateLimitConnections: number;
  /** A connection must finish its handshake/authentication this long after it opened. */
  readonly handshakeTimeoutMs: number;
  /** Node's `headersTimeout`: an HTTP request (or upgrade) must send its headers within this. */
  readonly httpHeadersTimeoutMs: number;
  /** Node's `requestTimeout`: a whole HTTP request (body included) must arrive within this. */
  readonly httpRequestTimeoutMs: number;
  readonly logLevel: string;
  readonly publicUrl: string | null;
  readonly shutdownTimeoutMs: number;
}

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function str(env: Env, name: string): string | null {
  const value = env[name];
  return value === undefined || value.trim() === '' ? null : value.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === null) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function url(env: Env, name: string, protocols: readonly string[]): string | null {
  const raw = str(env, name);
  if (raw === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  return raw;
}

/** `host:port,host:port,…` (an IPv6 host in brackets: `[::1]:7000`). */
function redisNodes(env: Env, name: string): RedisNode[] | null {
  const raw = str(env, name);
  if (raw === null) return null;
  const nodes = raw.split(',').map((part) => part.trim()).filter((part) => part !== '').map((part) => {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/.exec(part);
    const port = Number(m?.[3]);
    if (!m || port < 1 || port > 65535) throw new ConfigError(name, `expects host:port,host:port,… got '${part}'`);
    return { host: m[1] ?? m[2] ?? '', port };
  });
  if (nodes.length === 0) throw new ConfigError(name, 'names no node');
  return nodes;
}

/** Reads and validates every setting SPEC names; the first bad one stops the server, by name. */
export function loadConfig(env: Env): Config {
  const dataDir = resolve(str(env, 'DATA_DIR') ?? './data');
  const logLevel = (str(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const jwtSecret = str(env, 'JWT_SECRET');
  if (jwtSecret !== null && Buffer.byteLength(jwtSecret) < 32) throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes for HS256');

  const s3Endpoint = url(env, 'S3_ENDPOINT', ['http:', 'https:']);
  let s3: Config['s3'] = null;
  if (s3Endpoint !== null) {
    const need = (name: string): string => {
      const v = str(env, name);
      if (v === null) throw new ConfigError(name, 'is required when S3_ENDPOINT is set');
      return v;
    };
    s3 = {
      endpoint: s3Endpoint,
      region: str(env, 'S3_REGION') ?? 'us-east-1',
      bucket: need('S3_BUCKET'),
      accessKey: need('S3_ACCESS_KEY'),
      secretKey: need('S3_SECRET_KEY'),
      publicUrl: url(env, 'S3_PUBLIC_URL', ['http:', 'https:'])?.replace(/\/+$/, '') ?? null,
    };
  }

  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const redisClusterNodes = redisNodes(env, 'REDIS_CLUSTER_NODES');
  // Two buses at once cannot be meant: refuse rather than pick one silently.
  if (redisUrl !== null && redisClusterNodes !== null) throw new ConfigError('REDIS_CLUSTER_NODES', 'set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (Redis Cluster), not both');

  const host = str(env, 'HOST') ?? '0.0.0.0';
  const httpHeadersTimeoutMs = int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const httpRequestTimeoutMs = int(env, 'HTTP_REQUEST_TIMEOUT_MS', 60_000, 100, 3_600_000);
  // Node refuses a headers timeout longer than the request timeout.
  if (httpHeadersTimeoutMs > httpRequestTimeoutMs) throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS', 'must not exceed HTTP_REQUEST_TIMEOUT_MS');
  return {
    host,
    port: int(env, 'PORT', 8080, 0, 65535),
    dataDir,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl,
    redisClusterNodes,
    redisPrefix: str(env, 'REDIS_PREFIX') ?? 'chat:',
    jwtSecret,
    jwtIssuer: str(env, 'JWT_ISSUER'),
    jwtAudience: str(env, 'JWT_AUDIENCE'),
    jwksUrl: url(env, 'JWKS_URL', ['http:', 'https:']),
    jwtTtlS: int(env, 'JWT_TTL_S', 86_400, 60, 31_536_000),
    maxMessageLength: int(env, 'MAX_MESSAGE_LENGTH', 1000, 1, 100_000),
    rateLimitMessages: int(env, 'RATE_LIMIT_MESSAGES', 60, 0, 1_000_000),
    rateLimitWindowS: int(env, 'RATE_LIMIT_WINDOW_S', 60, 1, 86_400),
    uploadDir: resolve(str(env, 'UPLOAD_DIR') ?? resolve(dataDir, 'uploads')),
    s3,
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 5 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxFrameBytes: int(env, 'MAX_FRAME_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    maxConnectionsPerUser: int(env, 'MAX_CONNECTIONS_PER_USER', 32, 1, 100_000),
    maxBufferedBytes: int(env, 'MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    wsPingIntervalMs: int(env, 'WS_PING_INTERVAL_MS', 15_000, 100, 600_000),
    maxPageChats: int(env, 'MAX_PAGE_CHATS', 200, 1, 100_000),
    largeGroupSize: int(env, 'LARGE_GROUP_SIZE', 500, 2, 10_000_000),
    rateLimitConnections: int(env, 'RATE_LIMIT_CONNECTIONS', 60, 0, 1_000_000),
    handshakeTimeoutMs: int(env, 'HANDSHAKE_TIMEOUT_MS', 10_000, 100, 600_000),
    httpHeadersTimeoutMs,
    httpRequestTimeoutMs,
    logLevel,
    publicUrl: url(env, 'PUBLIC_URL', ['http:', 'https:'])?.replace(/\/+$/, '') ?? null,
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 8000, 100, 60_000),
  };
}
