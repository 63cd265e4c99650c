// One stored event onto the broker: its JSON message, and its PB message beside it, each QoS 1 (docs/mqtt.md).
import type { AckWindow } from './ack-window.js';
import { describe, PERMANENT_REFUSALS, safely, stableEventId } from './options.js';
import type { PublishChannel } from './publish-channel.js';
import type { ForwardEvent } from './source.js';
import { eventTopicFault, type Topics } from './topics.js';

export interface EventPublisherDeps {
  topics: Topics;
  instanceId: string;
  /** Holds each event's messages in flight until their PUBACKs. */
  window: AckWindow;
  /** The generation of the connection now: an answer for an older one is ignored. */
  generation(): number;
  /** The channel of the connection now; null without one. */
  channel(): PublishChannel | null;
  /** The broker acknowledged one message of the event; `receivedAt` null: the message was refused (its slot is free all the same). */
  answered(spot: string, id: number, receivedAt: number | null): void;
  /** The event is skipped for good: a topic it cannot have, or the broker's permanent refusal. */
  refused(spot: string, id: number, reason: string): void;
  /** Writing to the broker failed: the connection of `generation` is lost, for `reason`. */
  broken(generation: number, reason: string): void;
}

export class EventPublisher {
  /** Events handed to the broker (not counting the ones refused before a message was sent). */
  published = 0;

  constructor(private readonly d: EventPublisherDeps) {}

  /** False when the connection broke while publishing. `oneAtATime` (a window of one): the PB message goes once the JSON one is settled. */
  publish(channel: PublishChannel, generation: number, event: ForwardEvent, oneAtATime: boolean): boolean {
    const { spot, id, resource, action, timeReceived } = event;
    const jsonTopic = this.d.topics.eventJsonChecked(spot, resource, action);
    if (jsonTopic === null) {
      this.d.window.sent(spot, id, 1);
      this.refuse(spot, id, eventTopicFault(spot, resource, action));
      return true;
    }
    this.d.window.sent(spot, id, event.pb ? 2 : 1);
    this.published++;
    const eventId = stableEventId(this.d.instanceId, id);
    const pb = event.pb;
    const sent = safely(() => {
      if (!pb) {
        channel.publish(jsonTopic, event.data, eventId, 'application/json', (err) => this.done(generation, spot, id, timeReceived, jsonTopic, err));
        return;
      }
      const sendPb = (): void => {
        const pbTopic = this.d.topics.eventPb(spot);
        channel.publish(pbTopic, pb, eventId, 'application/x-protobuf', (err) => this.done(generation, spot, id, timeReceived, pbTopic, err));
      };
      // A window of one: the PB message goes out once the JSON one is settled (MQTT 5 3.3.4, Receive Maximum).
      channel.publish(jsonTopic, event.data, eventId, 'application/json', (err) => {
        this.done(generation, spot, id, timeReceived, jsonTopic, err);
        if (oneAtATime && generation === this.d.generation()) this.sendLater(generation, sendPb);
      });
      if (!oneAtATime) sendPb();
    });
    if (sent === true) return true;
    this.d.broken(generation, `publish of event ${id} of spot ${spot} failed: ${sent}`);
    return false;
  }

  private done(generation: number, spot: string, id: number, receivedAt: number, topic: string, err: Error | undefined): void {
    if (generation !== this.d.generation()) return;
    if (!err) {
      this.d.answered(spot, id, receivedAt);
      return;
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number' && PERMANENT_REFUSALS.has(code)) this.refuse(spot, id, `broker refused ${topic}: ${describe(err)}`);
    else this.d.broken(generation, `publish of event ${id} of spot ${spot} to ${topic} failed: ${describe(err)}`);
  }

  private refuse(spot: string, id: number, reason: string): void {
    this.d.refused(spot, id, reason);
    this.d.answered(spot, id, null);
  }

  /** A message sent from a PUBACK's callback (the PB form after its JSON on a window of one). */
  private sendLater(generation: number, send: () => void): void {
    const channel = this.d.channel();
    const sent = channel ? safely(() => (send(), channel.flush())) : 'no connection';
    if (sent === true || generation !== this.d.generation()) return;
    this.d.broken(generation, `writing to the broker failed: ${sent}`);
  }
}
