// The gateway's upstreams: the MQTT forwarder and the spot-server forwarder beside it, each with its own
// cursors (docs/chaining.md), replaced on the same cursors when a reload changes their keys.
import type { UpstreamView } from './api/routes.js';
import { spotServerChanged, type GatewayConfig } from './config/index.js';
import { redactUrl } from './config/redact.js';
import type { GatewayLogger } from './log.js';
import { MQTT_UPSTREAM, SPOT_SERVER_UPSTREAM, mqttForwarder, spotServerForwarder } from './parts.js';
import type { Store, StoreStatus } from './store/index.js';
import type { CommandAdmission } from './api/command-admission.js';
import type { OnlineState } from './ingest/index.js';
import type { ForwardSource, MqttForwarder } from './upstream/index.js';
import type { SpotServerForwarder } from './upstream/spot-server/index.js';

export interface UpstreamsDeps {
  store: Store;
  storeStatus: () => StoreStatus;
  source: ForwardSource;
  commandAdmission: CommandAdmission;
  logger: GatewayLogger;
  now: () => number;
}

export class Upstreams {
  private mqtt: MqttForwarder | null;
  private spotServer: SpotServerForwarder | null;
  private spotServerConfig: GatewayConfig;
  /** Replacements run one after another; stop() waits for the last. */
  private swapping: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    config: GatewayConfig,
    private readonly d: UpstreamsDeps,
  ) {
    this.mqtt = config.mqtt.url ? mqttForwarder(config, config.mqtt.url, d.source, d.commandAdmission, d.logger, d.now) : null;
    this.spotServer = config.spot_server.url ? spotServerForwarder(config, config.spot_server.url, d.store, d.storeStatus, d.commandAdmission, d.logger, d.now) : null;
    this.spotServerConfig = config;
  }

  /** The MQTT forwarder now (a reload may have replaced it), or null without one. */
  currentMqtt(): MqttForwarder | null {
    return this.mqtt;
  }

  currentSpotServer(): SpotServerForwarder | null {
    return this.spotServer;
  }

  /** What the API, metrics and the dashboard show of each upstream, read through the current forwarders. */
  views(): UpstreamView[] {
    const f = this.mqtt;
    const views: UpstreamView[] = f ? [{ name: MQTT_UPSTREAM, status: () => f.status(), resend: (id) => f.resend(id), extra: () => f.commandCounts() }] : [];
    const s = this.spotServer;
    if (s) views.push({ name: SPOT_SERVER_UPSTREAM, status: () => s.status(), extra: () => s.extra(), problem: () => s.problem() });
    return views;
  }

  /** A spot sent bytes: the spot server polls for its commands. */
  heard(serial: string): void {
    this.spotServer?.heard(serial);
  }

  /** A spot went online or offline: the MQTT upstream publishes its state. */
  spotState(serial: string, state: OnlineState): void {
    this.mqtt?.publishSpotState(serial, state);
  }

  start(): void {
    this.mqtt?.start();
    this.spotServer?.start();
  }

  /**
   * A reload: the spot server's token at once; with `restartMqtt` the MQTT forwarder, and when its keys
   * changed the spot-server forwarder, replaced on their cursors. Resolves once the replacements ran.
   */
  apply(next: GatewayConfig, restartMqtt: boolean): Promise<void> {
    this.spotServer?.setToken(next.spot_server.token);
    if (restartMqtt) this.swapping = this.swapping.then(() => this.replaceMqtt(next));
    if (spotServerChanged(this.spotServerConfig, next)) this.swapping = this.swapping.then(() => this.replaceSpotServer(next));
    this.spotServerConfig = next;
    return this.swapping;
  }

  /** The gateway is stopping: a replacement under way starts no new forwarder. */
  refuseReplacements(): void {
    this.stopping = true;
  }

  /** Waits for a replacement under way, then stops both; none is started after this is called. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.swapping;
    if (this.mqtt) await this.mqtt.stop();
    if (this.spotServer) await this.spotServer.stop();
  }

  /** The old forwarder stops (its in-flight events stay above the cursors and go again), then the new one starts. */
  private async replaceMqtt(next: GatewayConfig): Promise<void> {
    const old = this.mqtt;
    if (!old || !next.mqtt.url || this.stopping) return;
    try {
      await old.stop();
    } catch (err) {
      this.d.logger.warn({ reason: String(err) }, `mqtt: the old upstream did not stop cleanly (${String(err)}); starting the new one`);
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have begun while the old forwarder stopped
    if (this.stopping) return;
    const { source, commandAdmission, logger, now } = this.d;
    this.mqtt = mqttForwarder(next, next.mqtt.url, source, commandAdmission, logger, now);
    this.mqtt.start();
    logger.info({ mqtt: redactUrl(next.mqtt.url) }, 'mqtt: upstream restarted with the reloaded configuration');
  }

  /** The same for the spot-server upstream: the old one ends its posts and commits their cursors, the new one goes on from them. */
  private async replaceSpotServer(next: GatewayConfig): Promise<void> {
    const old = this.spotServer;
    if (!old || !next.spot_server.url || this.stopping) return;
    await old.stop();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have begun while the old forwarder stopped
    if (this.stopping) return;
    const { store, storeStatus, commandAdmission, logger, now } = this.d;
    this.spotServer = spotServerForwarder(next, next.spot_server.url, store, storeStatus, commandAdmission, logger, now);
    this.spotServer.start();
    logger.info({ spotServer: redactUrl(next.spot_server.url) }, 'spot server: upstream restarted with the reloaded configuration');
  }
}
