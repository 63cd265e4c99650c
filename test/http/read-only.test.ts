// A data dir that becomes read-only under the running gateway: 503 + Retry-After, then 200 again, nothing acknowledged lost.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { api, JSON_EVENTS, postChunks, startTestGateway } from '../helpers/gateway.js';
import { can, probePrivileges } from '../helpers/privileges.js';
import { jsonText, presence } from './events.js';

// chattr +i stops writes even for root (docs/storage.md, "Testing the failure paths as root").
const { canChattr } = probePrivileges();
if (!canChattr) console.log('read-only.test: chattr +i not permitted here (needs root on ext4): read-only data dir test skipped');

(canChattr ? test : test.skip)('a data dir that becomes read-only: posts answer 503 with Retry-After, then 200 once writable, every 200 stored', async (t) => {
  const gw = await startTestGateway(t);
  const db = path.join(gw.dataDir, 'spot-gateway.db');
  // Not the -shm file: it is memory-mapped, and an immutable one kills the process with SIGBUS.
  const files = () => [gw.dataDir, db, `${db}-wal`].filter((f) => fs.existsSync(f));
  t.teardown(() => can('chattr', ['-i', ...files()]));
  const acked: string[] = [];
  let n = 0;
  const post = async () => {
    const events = [presence(n++), presence(n++), presence(n++)];
    const res = await postChunks(gw.port, 95, [jsonText(events)], { headers: JSON_EVENTS });
    if (res.status === 200) acked.push(...events.map((e) => String(e.data.item_code)));
    return res;
  };

  t.is((await post()).status, 200);
  execFileSync('chattr', ['+i', ...files()]);
  for (let i = 0; i < 3; i++) {
    const refused = await post();
    t.is(refused.status, 503, `post ${i} while read-only`);
    t.regex(refused.headers['retry-after'] ?? '', /^\d+$/);
    t.regex(JSON.parse(refused.body.toString()).reason, /^spot 95: .+/);
  }
  const degraded = await api<{ status: string; reason: string | null }>(gw.url, '/healthz');
  t.deepEqual([degraded.status, degraded.body.status], [200, 'degraded'], 'alive, and saying the store cannot write');
  t.truthy(degraded.body.reason);
  const { body: refusing } = await api<{ ingest: { postsRefused: number } }>(gw.url, '/api/status');
  t.is(refusing.ingest.postsRefused, 3);

  execFileSync('chattr', ['-i', ...files()]);
  for (let i = 0; i < 3; i++) t.is((await post()).status, 200, `post ${i} once writable again`);
  t.is((await api<{ status: string }>(gw.url, '/healthz')).body.status, 'ok');

  const { body: stored } = await api<Array<{ data: { item_code: string } }>>(gw.url, '/api/events?spot=95&limit=1000');
  t.deepEqual(stored.map((e) => e.data.item_code), acked, 'every event answered 200 is stored, in order, and nothing of the refused posts');
  t.is(acked.length, 12);
});
