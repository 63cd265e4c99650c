// The MQTT upstream: public API.
export { MqttForwarder } from './mqtt-forwarder.js';
export type {
  ClientFactory,
  ConnectOptions,
  Connack,
  ForwarderState,
  InboundPublish,
  ForwarderStatus,
  MqttForwarderOptions,
  Timers,
  UpstreamClient,
  UpstreamLogger,
} from './options.js';
export type { ForwardEvent, ForwardSource } from './source.js';
export type { TlsFiles } from './mqtt-wire/target.js';
export type { SpotBacklog } from './scheduler.js';
export type { SpotCommand, PbCommandDecoder } from './downstream.js';
export { CommandNotQueued, MAX_COMMAND_BYTES, decodePbFrame } from './downstream.js';
export { Topics, normalizePrefix, type SpotState } from './topics.js';
