// `spot-gateway run`: the gateway as a service process: signals (TERM/INT stop, HUP reload) and
// what systemd is told (docs/operations.md, "Running under systemd").
import { ConfigError, planReload, shownValue, type GatewayConfig } from '../config/index.js';
import type { GatewayLogger } from '../log.js';
import { startGateway, type RunningGateway } from '../main.js';
import { systemdNotifier } from '../systemd/notifier.js';
import { unixDgramSocket, type NotifySocketFactory } from '../systemd/notify-socket.js';

export interface ServiceOptions {
  config: GatewayConfig;
  /** Reads the configuration again the way the start did (SIGHUP); throws ConfigError. */
  reread: () => GatewayConfig;
  logger: GatewayLogger;
  env: NodeJS.ProcessEnv;
  openSocket?: NotifySocketFactory;
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code once the gateway has stopped. */
export async function runService(options: ServiceOptions): Promise<number> {
  const { config, logger } = options;
  let gateway: RunningGateway | null = null;
  const notifier = systemdNotifier({
    env: options.env,
    pid: process.pid,
    openSocket: options.openSocket ?? unixDgramSocket,
    fault: () => gateway?.liveness.fault() ?? null,
    status: () => gateway?.liveness.summary() ?? 'starting',
    logger: logger.child({ part: 'systemd' }),
  });
  let current = config;
  let stopping = false;
  // Reloads run one after another (a forwarder replaced by one ends before the next starts).
  let reloads = Promise.resolve();
  // From the start: without a listener a SIGHUP would end the process. One during the start or the stop changes nothing.
  const onHangup = (): void => {
    reloads = reloads.then(async () => {
      if (!gateway || stopping) return;
      notifier.reloading();
      // The TLS files are read again at every SIGHUP, the configuration changed or not (docs/tls.md).
      gateway.reloadTls();
      current = await reload(gateway, current, options);
      // After a STOPPING=1 (a stop begun while the reload waited) the notifier sends nothing more.
      notifier.ready();
    });
  };
  process.on('SIGHUP', onHangup);
  try {
    gateway = await startGateway(config, { logger });
  } catch (err) {
    const reason = startFailure(err, config);
    logger.fatal({ reason }, `cannot start: ${reason}`);
    process.removeListener('SIGHUP', onHangup);
    notifier.close();
    return 1;
  }
  notifier.ready();
  const running = gateway;
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      stopping = true;
      notifier.stopping();
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      // A second signal while stopping ends the process at once; acknowledged events are already committed.
      const exitNow = (again: string): void => {
        logger.warn({ signal: again }, `${again} while stopping: exiting at once; posts still open are not answered, spots send them again`);
        process.exit(1);
      };
      process.once('SIGTERM', () => exitNow('SIGTERM'));
      process.once('SIGINT', () => exitNow('SIGINT'));
      const stopped = (code: number): void => {
        process.removeListener('SIGHUP', onHangup);
        notifier.close();
        resolve(code);
      };
      running.stop(signal).then(
        () => stopped(0),
        (err: unknown) => {
          logger.error({ err }, 'stop failed');
          stopped(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/**
 * SIGHUP: the live keys of the configuration read again are applied, the others named for a
 * restart. Resolves with the configuration now running (keys that need a restart keep their old values).
 */
async function reload(gateway: RunningGateway, current: GatewayConfig, options: ServiceOptions): Promise<GatewayConfig> {
  const { logger } = options;
  let running = current;
  try {
    const next = options.reread();
    // The level now (PUT /api/log-level may have changed it): a reload sets the file's level again.
    const plan = planReload({ ...current, log: { ...current.log, level: gateway.logLevel() } }, next);
    await gateway.applyLive(plan.running, plan.restartUpstream);
    running = plan.running;
    const applied = plan.applied.length > 0 ? `applied ${plan.applied.map((k) => `${k}=${shownValue(next, k)}`).join(', ')}` : 'no live key changed';
    const restart = plan.restartUpstream ? ' (mqtt upstream restarted)' : '';
    if (plan.needRestart.length > 0) {
      const named = plan.needRestart.map((k) => (plan.reasons[k] ? `${k} (${plan.reasons[k]})` : k)).join(', ');
      logger.warn(
        { applied: plan.applied, needRestart: plan.needRestart, restartUpstream: plan.restartUpstream },
        `reload: ${applied}${restart}; ${named} changed: they take effect at the next restart`,
      );
    } else {
      logger.info({ applied: plan.applied, needRestart: [], restartUpstream: plan.restartUpstream }, `reload: ${applied}${restart}`);
    }
  } catch (err) {
    const reason = err instanceof ConfigError ? err.message : String(err);
    logger.error({ reason }, `reload refused: ${reason}; the running configuration is kept`);
  }
  return running;
}

/** Why the gateway could not start, in words that say what to change. */
function startFailure(err: unknown, config: GatewayConfig): string {
  const e = err as NodeJS.ErrnoException & { plainPort?: number };
  const where = `${config.http.host}:${e.plainPort ?? config.http.port}`;
  const portKey = e.plainPort === undefined ? 'http.port / SPOT_GATEWAY_HTTP_PORT' : 'http.plain_port / SPOT_GATEWAY_HTTP_PLAIN_PORT';
  if (e.code === 'EADDRINUSE') return `${where} is already in use (another gateway running?); choose ${portKey}`;
  if (e.code === 'EACCES' && e.syscall === 'listen') return `no permission to listen on ${where}; use a port above 1023 or grant the capability`;
  if (e.code === 'EADDRNOTAVAIL') return `${config.http.host} is not an address of this machine; fix http.host / SPOT_GATEWAY_HTTP_HOST`;
  if (e.code === 'EACCES' || e.code === 'EROFS' || e.code === 'ENOENT' || e.code === 'ENOTDIR') return `data dir ${config.data_dir}: ${e.message}; fix data_dir / SPOT_GATEWAY_DATA_DIR`;
  return e instanceof Error ? e.message : String(err);
}
