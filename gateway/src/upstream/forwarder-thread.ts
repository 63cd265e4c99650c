// The MQTT forwarder in a worker thread, seen from the main thread: the same surface as
// MqttForwarder (start, stop, status, publishSpotState) plus `appended` from the store.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SpotCommand } from './downstream.js';
import type { ForwarderStatus, UpstreamLogger } from './options.js';
import type { ForwarderThreadConfig, FromForwarder, ToForwarder } from './thread-messages.js';
import type { SpotState } from './topics.js';

const RESPAWN_DELAY_MS = 1000;
/** The forwarder's own heap: its window and read-ahead are bounded, so this is room to spare; past it
 * the thread ends (ERR_WORKER_OUT_OF_MEMORY) and is started again, resending from the cursors. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 96 };

export interface ForwarderThreadOptions {
  config: ForwarderThreadConfig;
  logger: UpstreamLogger;
  /** The forwarder is done with these events (broker acknowledged): the store's cursors. */
  onCursors: (list: Array<[string, number]>) => void;
  /** A command from the broker: validate and queue durably, or throw the reason. */
  onCommand: (command: SpotCommand) => void;
  stopTimeoutMs?: number;
}

export class ForwarderThread {
  private worker: Worker | null = null;
  private last: ForwarderStatus;
  private batch = new Map<string, number>();
  private flushScheduled = false;
  private running = false;
  private stopped: (() => void) | null = null;

  constructor(private readonly o: ForwarderThreadOptions) {
    this.last = {
      state: 'disconnected',
      protocolVersion: 5,
      inFlight: 0,
      published: 0,
      acked: 0,
      refused: 0,
      ratePerSec: 0,
      lagEvents: null,
      lastError: null,
      reconnects: 0,
      spotStatesDropped: 0,
      commandsAccepted: 0,
      commandsRejected: 0,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.spawn();
  }

  /** The store acknowledged events of `spot` up to `lastId`; sent once per turn of the event loop. */
  appended(spot: string, lastId: number): void {
    if (lastId > (this.batch.get(spot) ?? 0)) this.batch.set(spot, lastId);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const list = [...this.batch];
      this.batch = new Map();
      this.post({ type: 'appended', list });
    });
  }

  publishSpotState(serial: string, state: SpotState): void {
    this.post({ type: 'spotState', serial, state });
  }

  /** The worker's last report (every 250 ms). */
  status(): ForwarderStatus {
    return this.last;
  }

  /** The forwarder waits for its in-flight acks and publishes `offline`; bounded. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const worker = this.worker;
    if (!worker) return;
    const done = new Promise<void>((resolve) => (this.stopped = resolve));
    this.post({ type: 'stop' });
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, this.o.stopTimeoutMs ?? 10_000).unref());
    await Promise.race([done, timeout]);
    await worker.terminate();
    this.worker = null;
  }

  private post(message: ToForwarder): void {
    this.worker?.postMessage(message);
  }

  private spawn(): void {
    // Built, the worker is forwarder-worker.js next to this file. Under tsx (in-process tests)
    // it is .ts, and a worker does not inherit tsx's loader: a small bootstrap registers it.
    const ext = path.extname(fileURLToPath(import.meta.url));
    const entry = new URL(`./forwarder-worker${ext}`, import.meta.url);
    const worker =
      ext === '.ts'
        ? new Worker(
            `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`,
            { eval: true, workerData: this.o.config, resourceLimits: RESOURCE_LIMITS },
          )
        : new Worker(entry, { workerData: this.o.config, resourceLimits: RESOURCE_LIMITS });
    this.worker = worker;
    worker.on('message', (message: FromForwarder) => this.received(message));
    worker.on('error', (err) => this.o.logger.error({ reason: String(err) }, `mqtt: the forwarder thread failed: ${String(err)}`));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (!this.running) return;
      this.o.logger.error({ code }, `mqtt: the forwarder thread exited (code ${code}); starting it again in ${RESPAWN_DELAY_MS} ms`);
      setTimeout(() => {
        if (this.running && !this.worker) this.spawn();
      }, RESPAWN_DELAY_MS).unref();
    });
  }

  private received(message: FromForwarder): void {
    switch (message.type) {
      case 'cursors':
        this.o.onCursors(message.list);
        break;
      case 'command': {
        let error: string | null = null;
        try {
          this.o.onCommand(message.command);
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
        }
        this.post({ type: 'commandDone', id: message.id, error });
        break;
      }
      case 'status':
        this.last = message.status;
        break;
      case 'log':
        this.o.logger[message.level](message.obj, message.msg);
        break;
      case 'stopped':
        this.stopped?.();
        break;
    }
  }
}
