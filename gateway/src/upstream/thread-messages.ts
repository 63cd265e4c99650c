// Messages between the gateway's main thread and the MQTT forwarder's worker thread.
import type { SpotCommand } from './downstream.js';
import type { ForwarderStatus } from './options.js';
import type { SpotState } from './topics.js';

export interface ForwarderThreadConfig {
  url: string;
  gatewayId: string;
  topicPrefix: string;
  maxInFlight: number;
  upstream: string;
  dbPath: string;
  instanceId: string;
}

/** Main -> worker. `appended`: [spot, highest acknowledged id] pairs, in commit order. */
export type ToForwarder =
  | { type: 'appended'; list: Array<[string, number]> }
  | { type: 'spotState'; serial: string; state: SpotState }
  | { type: 'commandDone'; id: number; error: string | null }
  | { type: 'stop' };

/** Worker -> main. */
export type FromForwarder =
  | { type: 'cursors'; list: Array<[string, number]> }
  | { type: 'command'; id: number; command: SpotCommand }
  | { type: 'status'; status: ForwarderStatus }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: object; msg: string }
  | { type: 'stopped' };
