// One JSON message's text to the event triple [resource, action, object], or why it is not one.
import { compactDataText, type ScanFacts } from './compact-json.js';
import { parseQuietly } from './json-quick.js';
import { topicLevelFault } from './topic-level.js';

export interface ParsedEvent {
  resource: string;
  action: string;
  data: Record<string, unknown>;
  /** The data's text as found in the message, when it is already as JSON.stringify prints it. */
  dataJson: string | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads one message's text; returns the event triple (with the data's text when compact) or why it is not one. */
export function parseMessage(bytes: Uint8Array, facts: ScanFacts): ParsedEvent | string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return 'invalid UTF-8';
  }
  let value: unknown;
  try {
    value = parseQuietly(text);
  } catch (err) {
    return `invalid JSON: ${(err as Error).message}`;
  }
  if (!Array.isArray(value) || value.length !== 3) {
    return 'not an event: expected [resource, action, object]';
  }
  const [resource, action, data] = value as unknown[];
  if (typeof resource !== 'string' || resource === '') return 'not an event: resource is not a non-empty string';
  if (typeof action !== 'string' || action === '') return 'not an event: action is not a non-empty string';
  // Resource and action become MQTT topic levels: refused here rather than by the broker, forever.
  const resourceFault = topicLevelFault(resource);
  if (resourceFault !== null) return `resource ${resourceFault}`;
  const actionFault = topicLevelFault(action);
  if (actionFault !== null) return `action ${actionFault}`;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return 'not an event: third element is not an object';
  }
  return { resource, action, data: data as Record<string, unknown>, dataJson: compactDataText(text, resource, action, data, facts) ?? undefined };
}
