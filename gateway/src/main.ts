// Composition root: the only place that wires real sockets, files, clocks and the broker together.
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from './config/index.js';
import { createLogger, type GatewayLogger } from './log.js';
import { createHttpTransport } from './transports/http.js';

export interface StartOptions {
  logger?: GatewayLogger;
}

export interface RunningGateway {
  /** The port actually listened on (config port 0 = a free one). */
  port: number;
  /** Stops accepting, flushes the store, stops the forwarder. Idempotent. */
  stop(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const app = createHttpTransport({
    rawRoutes: [],
    registerApi: (api) => {
      api.get('/healthz', async () => ({ status: 'ok' }));
    },
  });
  await app.listen({ port: config.http.port, host: config.http.host });
  const port = (app.server.address() as AddressInfo).port;
  logger.info({ port, host: config.http.host }, 'listening');
  let stopping: Promise<void> | null = null;
  return {
    port,
    stop: () => {
      stopping ??= (async () => {
        await app.close();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}
