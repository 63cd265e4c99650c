// Entry of the MQTT forwarder's worker thread: the forwarder publishes on its own core while the
// main thread takes spot posts and commits. Wiring only; the logic is MqttForwarder's.
import { parentPort, workerData } from 'node:worker_threads';
import { decodeFrame } from '../protocol/index.js';
import { MqttForwarder } from './mqtt-forwarder.js';
import type { ForwarderThreadConfig, FromForwarder, ToForwarder } from './thread-messages.js';
import { ThreadSource } from './thread-source.js';

const STATUS_EVERY_MS = 250;
/** A change of connection state is reported within this (the API shows it). */
const STATE_CHECK_MS = 10;

const port = parentPort;
if (!port) throw new Error('forwarder-worker.ts runs as a worker thread');
const config = workerData as ForwarderThreadConfig;
const send = (message: FromForwarder): void => port.postMessage(message);
// Log lines go to the main thread's logger (one destination, filtered there).
const logger = {
  debug: (obj: object, msg: string) => send({ type: 'log', level: 'debug', obj, msg }),
  info: (obj: object, msg: string) => send({ type: 'log', level: 'info', obj, msg }),
  warn: (obj: object, msg: string) => send({ type: 'log', level: 'warn', obj, msg }),
  error: (obj: object, msg: string) => send({ type: 'log', level: 'error', obj, msg }),
};

const source = new ThreadSource(config.dbPath, config.instanceId, config.upstream, (list) => send({ type: 'cursors', list }));
const pendingCommands = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
let nextCommand = 1;

const forwarder = new MqttForwarder({
  url: config.url,
  gatewayId: config.gatewayId,
  source,
  topicPrefix: config.topicPrefix,
  upstreamName: config.upstream,
  maxInFlight: config.maxInFlight,
  logger,
  // Queued by the main thread (validated and written durably there); the PUBACK waits for it.
  onCommand: (command) =>
    new Promise<void>((resolve, reject) => {
      const id = nextCommand++;
      pendingCommands.set(id, { resolve, reject });
      send({ type: 'command', id, command });
    }),
  decodePbCommand: (frame) => {
    const decoded = decodeFrame(frame);
    return decoded.ok ? { ok: true, value: decoded.event } : decoded;
  },
});

let reportedState = '';
let reportedAt = 0;
const statusTimer = setInterval(() => {
  const status = forwarder.status();
  if (status.state === reportedState && Date.now() - reportedAt < STATUS_EVERY_MS) return;
  reportedState = status.state;
  reportedAt = Date.now();
  send({ type: 'status', status });
}, STATE_CHECK_MS);

port.on('message', (message: ToForwarder) => {
  switch (message.type) {
    case 'appended':
      source.appended(message.list);
      break;
    case 'spotState':
      forwarder.publishSpotState(message.serial, message.state);
      break;
    case 'commandDone': {
      const pending = pendingCommands.get(message.id);
      pendingCommands.delete(message.id);
      if (!pending) break;
      if (message.error === null) pending.resolve();
      else pending.reject(new Error(message.error));
      break;
    }
    case 'stop':
      void stop();
      break;
  }
});

async function stop(): Promise<void> {
  clearInterval(statusTimer);
  await forwarder.stop();
  send({ type: 'status', status: forwarder.status() });
  source.close();
  send({ type: 'stopped' });
  port!.close();
}

forwarder.start();
send({ type: 'status', status: forwarder.status() });
