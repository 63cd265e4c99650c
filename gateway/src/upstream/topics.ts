// Topic names of the MQTT upstream, under a configurable prefix (docs/mqtt.md).
import { topicLevelFault, topicPrefixFault } from '../protocol/index.js';

export type SpotState = 'connected' | 'disconnected';

export type CommandTopic =
  | { spot: string; encoding: 'json'; resource: string; action: string }
  | { spot: string; encoding: 'pb' };

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const SERIAL = /^[0-9]{1,20}$/;
const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Whether a string can be one topic level (the rule of protocol/topic-level.ts, which ingest applies too). */
export function isTopicLevel(level: string): boolean {
  return topicLevelFault(level) === null;
}

/** Why an event of this spot, resource and action has no topic (such events were stored before ingest refused them). */
export function eventTopicFault(serial: string, resource: string, action: string): string {
  for (const [field, text] of [['spot serial', serial], ['resource', resource], ['action', action]] as const) {
    const fault = topicLevelFault(text);
    if (fault !== null) return `${field} ${JSON.stringify(text.slice(0, 100))} ${fault}`;
  }
  return 'no topic';
}

/** Normalises a prefix: '' -> '', 'site1' or 'site1/' -> 'site1/'. Throws with the reason when it cannot start a topic. */
export function normalizePrefix(prefix: string): string {
  const fault = topicPrefixFault(prefix);
  if (fault !== null) throw new Error(`mqtt topic prefix ${JSON.stringify(prefix.slice(0, 100))}: ${fault}`);
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return trimmed === '' ? '' : `${trimmed}/`;
}

const MAX_CACHED_SPOTS = 10_000;
const MAX_CACHED_PER_LEVEL = 32;

export class Topics {
  readonly prefix: string;
  private readonly jsonTopics = new Map<string, Map<string, Map<string, string | null>>>();

  constructor(prefix: string) {
    this.prefix = normalizePrefix(prefix);
  }

  eventJson(serial: string, resource: string, action: string): string {
    return `${this.prefix}from/${serial}/json/${resource}/${action}`;
  }

  eventPb(serial: string): string {
    return `${this.prefix}from/${serial}/pb`;
  }

  /**
   * The event's JSON topic, or null when a level cannot be one (isTopicLevel).
   * Remembered per spot, resource and action (a few dozen per spot at most): building and
   * checking three levels per event showed in profiles.
   */
  eventJsonChecked(serial: string, resource: string, action: string): string | null {
    let bySpot = this.jsonTopics.get(serial);
    if (!bySpot) {
      if (this.jsonTopics.size >= MAX_CACHED_SPOTS) this.jsonTopics.clear();
      this.jsonTopics.set(serial, (bySpot = new Map<string, Map<string, string | null>>()));
    }
    let byResource = bySpot.get(resource);
    if (!byResource) {
      if (bySpot.size >= MAX_CACHED_PER_LEVEL) return this.checkedTopic(serial, resource, action);
      bySpot.set(resource, (byResource = new Map<string, string | null>()));
    }
    let topic = byResource.get(action);
    if (topic === undefined) {
      topic = this.checkedTopic(serial, resource, action);
      if (byResource.size < MAX_CACHED_PER_LEVEL) byResource.set(action, topic);
    }
    return topic;
  }

  private checkedTopic(serial: string, resource: string, action: string): string | null {
    if (!isTopicLevel(serial) || !isTopicLevel(resource) || !isTopicLevel(action)) return null;
    return this.eventJson(serial, resource, action);
  }

  spotState(serial: string, state: SpotState): string {
    return `${this.prefix}spots/${serial}/${state}`;
  }

  gatewayState(gatewayId: string): string {
    return `${this.prefix}gateways/${gatewayId}/state`;
  }

  /** The downstream subscriptions. */
  commandFilters(): string[] {
    return [`${this.prefix}to/+/json/+/+`, `${this.prefix}to/+/pb`];
  }

  /** Parses a downstream topic strictly: `to/<serial>/json/<resource>/<action>` or `to/<serial>/pb`. */
  parseCommand(topic: string): Parsed<CommandTopic> {
    if (!topic.startsWith(this.prefix)) {
      return { ok: false, reason: `topic "${topic}" is not under the prefix "${this.prefix}"` };
    }
    const levels = topic.slice(this.prefix.length).split('/');
    const [to, spot, encoding, resource, action] = levels;
    if (to !== 'to' || spot === undefined || encoding === undefined) {
      return { ok: false, reason: `topic "${topic}" is not to/<serial>/json/<resource>/<action> or to/<serial>/pb` };
    }
    if (!SERIAL.test(spot)) {
      return { ok: false, reason: `topic "${topic}": spot serial "${spot}" is not a number` };
    }
    if (encoding === 'pb') {
      if (levels.length !== 3) return { ok: false, reason: `topic "${topic}": nothing may follow "pb"` };
      return { ok: true, value: { spot, encoding: 'pb' } };
    }
    if (encoding !== 'json') {
      return { ok: false, reason: `topic "${topic}": encoding "${encoding}" is neither json nor pb` };
    }
    if (levels.length !== 5 || resource === undefined || action === undefined) {
      return { ok: false, reason: `topic "${topic}": expected to/<serial>/json/<resource>/<action>` };
    }
    if (!NAME.test(resource) || !NAME.test(action)) {
      return { ok: false, reason: `topic "${topic}": resource and action must match [a-z][a-z0-9_]*` };
    }
    return { ok: true, value: { spot, encoding: 'json', resource, action } };
  }
}
