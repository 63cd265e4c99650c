// The store contract used by ingest, upstreams and the API. The store knows
// nothing of HTTP or MQTT.
import type { Encoding } from '../protocol/types.js';

export interface NewEvent {
  spot: string;
  resource: string;
  action: string;
  /** Compact JSON text of the event object. */
  data: string;
  /** PB Frame bytes (tricks undone) when the spot sent PB; null for JSON. */
  pb: Uint8Array | null;
  encoding: Encoding;
  /** Unix ms when the gateway received it. */
  timeReceived: number;
  /** Numbering from the spot, if it sends any (docs/protocol.md). */
  boot: number | null;
  seq: number | null;
}

export interface StoredEvent extends NewEvent {
  /** Gateway sequence: rowid of the append-only log, increasing. */
  id: number;
}

/** Per event of an append: its id, or that it was a retransmission already stored. */
export type AppendOutcome = { id: number } | { duplicate: true };

export type OverflowPolicy = 'drop-oldest' | 'reject';
export type Durability = 'full' | 'normal' | 'off';

/** Thrown (as a rejected promise) when an append cannot be stored: the spot gets 503. */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly code: 'full' | 'io' | 'closed',
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

export type CommandState = 'queued' | 'delivered' | 'expired' | 'failed';

export interface Command {
  id: number;
  spot: string;
  resource: string;
  action: string;
  /** Compact JSON text of the command object. */
  data: string;
  /** Where it came from: 'api', 'mqtt', ... */
  source: string;
  state: CommandState;
  timeQueued: number;
  timeDelivered: number | null;
  timeExpires: number;
  timeFailed: number | null;
}

export interface SpotRecord {
  serial: string;
  firmwareVersion: string | null;
  firstSeen: number;
  lastSeen: number;
  posts: number;
  events: number;
  rejected: number;
  duplicates: number;
  /** Last `spot create` and `config create` objects, and config as last reported. */
  spotCreate: Record<string, unknown> | null;
  configCreate: Record<string, unknown> | null;
  config: Record<string, unknown> | null;
}

export interface RejectedRecord {
  id: number;
  spot: string;
  raw: Uint8Array;
  reason: string;
  offset: number;
  time: number;
}
