// Gateway and spot state messages (not events): best effort, through the window like events but
// never more than half of it, queued while it is full, one per spot (the latest), bounded.
// docs/mqtt.md, "Spot online/offline".
import { safely, type UpstreamClient } from './options.js';

export interface StateMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** Spot states waiting at most (one per spot): about 100 bytes each. */
export const DEFAULT_STATE_QUEUE_LIMIT = 10_000;

export class StateOutbox {
  /** The gateway's own state: goes out before any spot state. */
  private gateway: StateMessage | null = null;
  /** Spot states waiting, the latest per spot, in the order their spots first queued. */
  private readonly spots = new Map<string, StateMessage>();
  private sending = 0;
  private droppedCount = 0;

  constructor(private readonly limit = DEFAULT_STATE_QUEUE_LIMIT) {}

  /** Messages waiting for a window slot. */
  get queued(): number {
    return this.spots.size + (this.gateway ? 1 : 0);
  }

  /** Messages awaiting their PUBACK. */
  get inFlight(): number {
    return this.sending;
  }

  /** Spot states never sent: while disconnected, replaced by a later state of their spot, or over the limit. */
  get dropped(): number {
    return this.droppedCount;
  }

  gatewayState(message: StateMessage): void {
    this.gateway = message;
  }

  /** A spot's state replaces one of the same spot still waiting (keeping its place in the queue). */
  spotState(spot: string, message: StateMessage): void {
    if (this.spots.has(spot)) {
      this.droppedCount++;
    } else if (this.spots.size >= this.limit) {
      const oldest = this.spots.keys().next().value as string;
      this.spots.delete(oldest);
      this.droppedCount++;
    }
    this.spots.set(spot, message);
  }

  /** A state message that arrives while disconnected. */
  droppedOne(): void {
    this.droppedCount++;
  }

  /**
   * Sends queued messages through `publish` (false: the connection broke): at most `room`, and at
   * most half of `window` in flight. `reserved`: only the share the events leave to states for sure
   * (half, but at least two slots left for an event with a PB form); else up to half.
   * `gatewayOnly`: spot states wait (a suspected poison event is out alone).
   */
  send(window: number, room: number, reserved: boolean, gatewayOnly: boolean, publish: (message: StateMessage) => boolean): void {
    const half = Math.max(1, Math.floor(window / 2));
    const cap = reserved ? Math.min(half, window - 2) : half;
    let free = Math.min(room, cap - this.sending);
    // The gateway's "online" opens each connection: nothing is in flight then, so it always fits.
    if (this.gateway && room > 0 && this.sending < half) {
      const message = this.gateway;
      this.gateway = null;
      this.sending++;
      free--;
      if (!publish(message)) return;
    }
    while (free > 0 && this.spots.size > 0 && !gatewayOnly) {
      const [spot, message] = this.spots.entries().next().value as [string, StateMessage];
      this.spots.delete(spot);
      this.sending++;
      free--;
      if (!publish(message)) return;
    }
  }

  /** `send` through mqtt.js (QoS 1), `acked` on each PUBACK or refusal: true, or why mqtt.js would not take one. */
  sendThrough(client: UpstreamClient, window: number, room: number, reserved: boolean, gatewayOnly: boolean, acked: (topic: string, err?: Error) => void): true | string {
    let result: true | string = true;
    this.send(window, room, reserved, gatewayOnly, ({ topic, payload, retain }) => {
      result = safely(() => client.publish(topic, payload, { qos: 1, retain }, (err) => acked(topic, err ?? undefined)));
      return result === true;
    });
    return result;
  }

  /** A state message's PUBACK came (or its refusal). */
  acked(): void {
    if (this.sending > 0) this.sending--;
  }

  /** The connection is gone: nothing is in flight, and what waits is dropped (counted). */
  lost(): void {
    this.droppedCount += this.spots.size;
    this.spots.clear();
    this.gateway = null;
    this.sending = 0;
  }
}
