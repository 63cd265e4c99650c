// Thousands of spots the gateway has never seen post one event each within seconds, then silence:
// every event still reaches the broker (docs/mqtt.md, "Nothing left behind").
import test from 'ava';
import { startMosquitto } from '../helpers/mosquitto.js';
import { api, JSON_EVENTS, SpotConnection, spawnGateway, tempDir, waitFor } from '../helpers/gateway.js';
import { startConsumer } from '../upstream/consumer.js';
import { jsonText, presence } from './events.js';

const SPOTS = 5000;
const CONNECTIONS = 200;
/** From the last post to lag 0; the drain takes a few seconds on the loaded 2-core CI machine. */
const DRAIN_BOUND_MS = 45_000;

type Upstream = { lag: number | null; inFlight: number; acked: number; state: string };

async function upstream(url: string): Promise<Upstream | string> {
  return api<{ upstreams: { mqtt: Upstream } }>(url, '/api/status').then(
    (r) => r.body.upstreams.mqtt,
    (err: unknown) => `status failed: ${String(err)}`,
  );
}

test('thousands of new spots posting at once and going offline, then silence: the lag reaches 0 and the broker has every event', async (t) => {
  // Mosquitto's defaults: a Receive Maximum of 20 messages in flight.
  const broker = await startMosquitto({ t });
  const consumer = await startConsumer(broker.url, ['from/#'], t);
  t.teardown(() => consumer.end());
  // Spots count as offline a second after their post: every sweep (each 250 ms) publishes hundreds
  // of disconnected messages at once while the spots' events still wait, as a burst longer than the
  // default 10 s does at a site; with the connected messages, they hold the whole window for a while.
  const gw = await spawnGateway(t, {
    env: { SPOT_GATEWAY_DATA_DIR: tempDir(t), SPOT_GATEWAY_MQTT_URL: broker.url, SPOT_GATEWAY_SPOTS_OFFLINE_AFTER_S: '1' },
  });
  await waitFor(async () => ((await upstream(gw.url)) as Upstream).state === 'connected', 10000, 'the gateway to connect to the broker');

  let next = 0;
  const post = async (): Promise<void> => {
    const conn = new SpotConnection(gw.port);
    try {
      for (let i = next++; i < SPOTS; i = next++) {
        const response = await conn.post(100000 + i, jsonText([presence(i)]), { headers: JSON_EVENTS });
        if (response.status !== 200) throw new Error(`spot ${100000 + i}: HTTP ${response.status} ${response.body.toString()}`);
      }
    } finally {
      conn.close();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, post));

  // No more input from here on. Polled gently (every 500 ms): each status counts the lag of every pending spot.
  let last: Upstream | string | undefined;
  await waitFor(
    async () => {
      last = await upstream(gw.url);
      return typeof last !== 'string' && last.lag === 0;
    },
    DRAIN_BOUND_MS,
    () => `the lag to reach 0 after the last post; last status ${JSON.stringify(last)}`,
    500,
  );
  const spotsSeen = (): number => new Set(consumer.messages.filter((m) => m.topic.includes('/json/')).map((m) => m.topic.split('/')[1])).size;
  await consumer.waitFor(() => spotsSeen() === SPOTS, 10000, `an event of each of the ${SPOTS} spots`);
  t.is(spotsSeen(), SPOTS);
});
