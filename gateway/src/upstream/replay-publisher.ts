// Re-publishing stored events for `spot-gateway replay`: the forwarder's topics, payloads, content
// types and stable event ids, over mqtt.js's public API (QoS 1, every PUBACK awaited). Off the hot
// path: one connection of its own, a clean session, never the gateway's client id.
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { ForwardEvent } from './source.js';
import { describe, eventPublishOptions, stableEventId } from './options.js';
import { Topics } from './topics.js';

/** Publishes awaiting their PUBACK at once; mqtt.js sends them in call order on the one connection. */
const WINDOW = 256;

export class ReplayPublisher {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: string | null = null;
  /** Resolves when the connection is gone: publishes awaiting a PUBACK then never settle (no reconnect). */
  private readonly closed: Promise<void>;
  private ending = false;
  /** Events whose every message the broker acknowledged. */
  acked = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly topics: Topics,
    private readonly instanceId: string,
  ) {
    this.closed = new Promise((resolve) =>
      client.once('close', () => {
        if (!this.ending) this.failure ??= 'the broker closed the connection';
        resolve();
      }),
    );
  }

  private async settleOne(): Promise<void> {
    await Promise.race([...this.inFlight, this.closed]);
  }

  /** Connects (MQTT 5, clean session); throws with the broker's address and the reason. */
  static async connect(url: string, topicPrefix: string, instanceId: string, timeoutMs = 10_000): Promise<ReplayPublisher> {
    const topics = new Topics(topicPrefix);
    try {
      const client = await mqtt.connectAsync(url, {
        protocolVersion: 5,
        clientId: `spot-gateway-replay-${randomUUID().slice(0, 8)}`,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: timeoutMs,
      });
      return new ReplayPublisher(client, topics, instanceId);
    } catch (err) {
      throw new Error(`cannot connect to the broker at ${url}: ${describe(err)}`, { cause: err });
    }
  }

  /** Sends the event's messages (`jsonTopic`: Topics.eventJsonChecked's); waits while the window is full. Throws once a publish failed. */
  async send(event: ForwardEvent, jsonTopic: string): Promise<void> {
    while (this.inFlight.size >= WINDOW && this.failure === null) await this.settleOne();
    if (this.failure !== null) throw new Error(this.failure);
    const eventId = stableEventId(this.instanceId, event.id);
    const messages = [this.client.publishAsync(jsonTopic, event.data, eventPublishOptions(5, eventId, 'application/json'))];
    if (event.pb) {
      const pb = Buffer.from(event.pb.buffer, event.pb.byteOffset, event.pb.byteLength);
      messages.push(this.client.publishAsync(this.topics.eventPb(event.spot), pb, eventPublishOptions(5, eventId, 'application/x-protobuf')));
    }
    const done: Promise<void> = Promise.all(messages).then(
      () => {
        this.acked++;
        this.inFlight.delete(done);
      },
      (err: unknown) => {
        this.failure ??= `publishing event ${event.id} of spot ${event.spot} failed: ${describe(err)}`;
        this.inFlight.delete(done);
      },
    );
    this.inFlight.add(done);
  }

  /** Waits for every PUBACK; throws when a publish failed. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0 && this.failure === null) await this.settleOne();
    if (this.failure !== null) throw new Error(this.failure);
  }

  async end(): Promise<void> {
    this.ending = true;
    await this.client.endAsync(true);
  }
}
