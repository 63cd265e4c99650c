// SIGHUP reload plan: log.level applies at once, every other changed key is named for a restart.
import test from 'ava';
import { defaultConfig, leafKeys, configSchema, planReload, LIVE_KEYS } from '../../gateway/src/config/index.js';

const base = () => defaultConfig({ gateway: { id: 'gw' } });

test('nothing changed: nothing to apply, nothing to restart', (t) => {
  t.deepEqual(planReload(base(), base()), { apply: {}, applied: [], needRestart: [] });
});

test('log.level applies at once', (t) => {
  const next = defaultConfig({ gateway: { id: 'gw' }, log: { level: 'debug' } });
  t.deepEqual(planReload(base(), next), { apply: { logLevel: 'debug' }, applied: ['log.level'], needRestart: [] });
});

test('every other key that changed is named for the next restart, in schema order', (t) => {
  const next = defaultConfig({
    gateway: { id: 'gw' },
    http: { port: 9090 },
    mqtt: { url: 'mqtt://broker:1883' },
    commands: { max_queued_per_spot: 5 },
    log: { level: 'warn' },
  });
  const plan = planReload(base(), next);
  t.deepEqual(plan.needRestart, ['http.port', 'mqtt.url', 'commands.max_queued_per_spot']);
  t.deepEqual(plan.applied, ['log.level']);
});

test('only log.level is live: the documented list', (t) => {
  t.deepEqual([...LIVE_KEYS], ['log.level']);
  const keys = leafKeys(configSchema).map((k) => k.path.join('.'));
  for (const key of LIVE_KEYS) t.true(keys.includes(key), `${key} is a key of the schema`);
});
