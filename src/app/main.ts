import { buildApp } from './build-app.js';
import { ConfigError, loadConfig } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  let server;
  try {
    server = await buildApp(config);
  } catch (err) {
    const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : `startup failed: ${(err as Error).message}`;
    process.stderr.write(`${message}\n`);
    process.exit(1);
  }
  const address = await server.listen();
  server.log.info({ address, storage: server.store.kind, bus: server.broker.kind }, 'chat server listening');

  const shutdown = (signal: string): void => {
    server.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      server.log.error({}, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 1500);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.log.error({ err: { message: (err as Error).message } }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

void main();
