// A realistic recorded-like spot stream: mostly presences, some hits, now and then config.
import type { SpotEventBody } from '../../../gateway/src/protocol/index.js';

/** Deterministic pseudo-random numbers (mulberry32), so every run decodes the same stream. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PROXIMITIES = ['immediate', 'near', 'far'];

/** `count` events of one spot: spot create, config create, then live traffic. */
export function mixedEvents(count: number, seed = 4711): SpotEventBody[] {
  const rnd = random(seed);
  const items = Array.from({ length: 48 }, (_, i) => `e2801170000002${(0x0a1b2c3d00 + i * 7919).toString(16).padStart(10, '0')}`);
  let now = Date.UTC(2026, 2, 1, 8, 0, 0);
  const iso = (ms: number): string => new Date(ms).toISOString();
  const events: SpotEventBody[] = [
    {
      resource: 'spot',
      action: 'create',
      data: { spot_id: 4711, version: '2.3.1', pcb_version: 'r4', online: true, dip_mask: 0, rfid_swr: [1.1, 1.3, 1.2, 1.4], boot_count: 12, watchdog_count: 0, presence_create_count: 0, time_started: iso(now - 5000), time: iso(now) },
    },
    {
      resource: 'config',
      action: 'create',
      data: { rfid_power_dbm: 27, rfid_continues: true, rfid_channel: 0, rfid_region: 'eu', rfid_period_ms: 100, rfid_immediate: -450, rfid_near: -600, rfid_hysteresis: 30, control_schema: { output_1: 'presence', led: 'hit' }, brain_address: '10.0.0.2', use_dhcp: true, send_hits: true, hostname: 'spot-4711' },
    },
  ];
  const started = new Map<string, number>();
  while (events.length < count) {
    now += Math.floor(rnd() * 20);
    const roll = rnd();
    const code = items[Math.floor(rnd() * items.length)]!;
    if (roll < 0.15) {
      events.push({
        resource: 'hit',
        action: 'create',
        data: { time: iso(now), item_code: code, item_codetype: 'EPC Gen2', antenna: 1 + Math.floor(rnd() * 4), signal_strength: -300 - Math.floor(rnd() * 400) },
      });
    } else if (roll < 0.16) {
      events.push({ resource: 'config', action: 'update', data: { rfid_power_dbm: 20 + Math.floor(rnd() * 10), time: iso(now) } });
    } else {
      const first = started.get(code);
      const action = first === undefined ? 'create' : rnd() < 0.2 ? 'delete' : 'update';
      const since = first ?? now;
      if (action === 'create') started.set(code, now);
      if (action === 'delete') started.delete(code);
      events.push({
        resource: 'presence',
        action,
        data: { item_code: code, item_codetype: 'EPC Gen2', time_started: iso(since), time_last: iso(now), proximity: PROXIMITIES[Math.floor(rnd() * 3)]!, hold_delay_s: 4 },
      });
    }
  }
  return events;
}
