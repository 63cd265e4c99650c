// An MQTT consumer for tests: records every message with its event_id; bounded waits.
import mqtt, { type MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  payload: Buffer;
  eventId: string | undefined;
  retain: boolean;
}

export interface Consumer {
  client: MqttClient;
  messages: Received[];
  /** Resolves when `done()` holds; rejects after timeoutMs with what arrived so far. */
  waitFor(done: (messages: Received[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  end(): Promise<void>;
}

/** `clientId` given: a persistent session that survives broker restarts (with broker persistence on). */
export async function startConsumer(
  url: string,
  filters: string[],
  t?: { teardown(fn: () => unknown): void },
  clientId?: string,
): Promise<Consumer> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    reconnectPeriod: 200,
    ...(clientId ? { clientId, clean: false, properties: { sessionExpiryInterval: 600 } } : { clean: true }),
  });
  const messages: Received[] = [];
  const checks = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    const value = packet.properties?.userProperties?.event_id;
    messages.push({
      topic,
      payload,
      eventId: Array.isArray(value) ? value[0] : value,
      retain: packet.retain,
    });
    for (const check of checks) check();
  });
  await client.subscribeAsync(filters, { qos: 1 });
  const consumer: Consumer = {
    client,
    messages,
    waitFor: (done, timeoutMs, what) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!done(messages)) return;
          checks.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          checks.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${messages.length} messages`));
        }, timeoutMs);
        checks.add(check);
        check();
      }),
    end: () => client.endAsync(true),
  };
  t?.teardown(() => consumer.end());
  return consumer;
}

/** Per spot, the event ids in arrival order (from the json topics), taken from the event_id user property. */
export function idsBySpot(messages: Received[]): Map<string, number[]> {
  const bySpot = new Map<string, number[]>();
  for (const m of messages) {
    const match = /^(?:.*\/)?from\/([^/]+)\/json\//.exec(m.topic);
    if (!match || !m.eventId) continue;
    const id = Number(m.eventId.split(':').pop());
    let list = bySpot.get(match[1]!);
    if (!list) bySpot.set(match[1]!, (list = []));
    list.push(id);
  }
  return bySpot;
}

/** Drops ids seen before (what a consumer dedupes by event_id). */
export function firstSeen(ids: number[]): number[] {
  const seen = new Set<number>();
  return ids.filter((id) => (seen.has(id) ? false : (seen.add(id), true)));
}
