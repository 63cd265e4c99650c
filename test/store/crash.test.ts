import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { Durability } from '../../gateway/src/store/types.js';
import { openTestStore, tempDir } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, 'fixtures', 'append-and-ack.ts');

const survivesSigkill = test.macro(async (t, durability: Durability) => {
  const dataDir = tempDir(t);
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dataDir, durability], {
    cwd: path.resolve(here, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('close', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child printed too few acks in 30 s; stderr: ${err}`)), 30_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').length > 3000) {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        resolve();
      }
    });
    proc.on('close', () => reject(new Error(`child exited early; stderr: ${err}`)));
  });
  t.is(await exited, 'SIGKILL');

  const acked = out
    .split('\n')
    .filter((l) => l.startsWith('ack '))
    .map((l) => {
      const [, id, data] = /^ack (\d+) (.*)$/.exec(l)!;
      return { id: Number(id), data: data! };
    });
  t.log(`${acked.length} events acknowledged before SIGKILL`);
  t.true(acked.length >= 3000);

  const store = openTestStore(t, { dataDir, upstreams: ['mqtt'] });
  const stored = new Map(store.listEvents({ limit: 1_000_000 }).map((e) => [e.id, e.data]));
  const missing = acked.filter((a) => stored.get(a.id) !== a.data);
  t.deepEqual(missing.slice(0, 5), [], `${missing.length} acknowledged events missing or different after restart`);
  t.true(stored.size >= acked.length);
});

test('acknowledged events survive SIGKILL (durability full)', survivesSigkill, 'full');
test('acknowledged events survive SIGKILL (durability normal)', survivesSigkill, 'normal');
