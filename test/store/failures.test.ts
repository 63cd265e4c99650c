// Write failures as root: chattr +i (read-only data dir) and a small tmpfs (disk full). See docs/storage.md.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openStore } from '../../gateway/src/store/index.js';
import { StoreUnavailableError } from '../../gateway/src/store/types.js';
import { events, ids, recordingLogger, tempDir } from './helpers.js';
import { can, probePrivileges } from '../helpers/privileges.js';

const { canChattr, canMount } = probePrivileges();
if (!canChattr) console.log('failures.test: chattr +i not permitted here (needs root on ext4): read-only test skipped');
if (!canMount) console.log('failures.test: mounting tmpfs not permitted here (needs root): disk-full test skipped');

(canChattr ? test : test.skip)('a data dir that becomes read-only: appends reject with io, then recover', async (t) => {
  const dataDir = tempDir(t);
  const logger = recordingLogger();
  const store = openStore({ dataDir, logger, upstreams: ['mqtt'] });
  const files = () => [dataDir, store.dbPath, `${store.dbPath}-wal`].filter((f) => fs.existsSync(f));
  try {
    const before = ids(await store.append(events('a', 5)));
    execFileSync('chattr', ['+i', ...files()]);
    let err: unknown = null;
    try {
      await store.append(events('a', 5));
    } catch (e) {
      err = e;
    }
    t.true(err instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(err)}`);
    t.is((err as StoreUnavailableError).code, 'io');
    t.regex((err as StoreUnavailableError).message, /SQLITE_IOERR|SQLITE_READONLY|cannot write/);
    t.log((err as StoreUnavailableError).message);
    await t.throwsAsync(store.append(events('a', 1)), { instanceOf: StoreUnavailableError }, 'still refused');
    t.not(store.status().lastError, null);
    const errorLines = logger.lines.filter((l) => l.level === 'error').length;
    t.log(logger.lines.filter((l) => l.level === 'error').map((l) => l.msg));
    await t.throwsAsync(store.append(events('a', 1)), { instanceOf: StoreUnavailableError });
    t.is(logger.lines.filter((l) => l.level === 'error').length, errorLines, 'the same failure is not logged again');

    execFileSync('chattr', ['-i', ...files()]);
    const after = ids(await store.append(events('a', 5)));
    t.is(after.length, 5);
    t.is(store.status().lastError, null);
    t.true(logger.lines.some((l) => l.level === 'info' && /writing again/.test(l.msg ?? '')));
    t.deepEqual(
      store.listEvents({ spot: 'a', limit: 100 }).map((e) => e.id),
      [...before, ...after],
      'the events acknowledged before are intact, the refused ones are not there',
    );
  } finally {
    can('chattr', ['-i', ...files()]);
    await store.close();
  }
});

(canMount ? test : test.skip)('a full disk: appends reject with full, then recover when space is freed', async (t) => {
  const dataDir = tempDir(t);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dataDir]);
  const filler = path.join(dataDir, 'filler');
  fs.writeFileSync(filler, Buffer.alloc(1024 * 1024));
  const store = openStore({ dataDir, logger: recordingLogger(), upstreams: ['mqtt'], maxBytes: 1024 * 1024 * 1024 });
  try {
    let stored = 0;
    let err: unknown = null;
    for (let i = 0; i < 200 && !err; i++) {
      try {
        stored += (await store.append(events('a', 100, { data: JSON.stringify({ pad: 'x'.repeat(500), i }) }))).length;
      } catch (e) {
        err = e;
      }
    }
    t.true(err instanceof StoreUnavailableError, `expected StoreUnavailableError after ${stored} events, got ${String(err)}`);
    t.is((err as StoreUnavailableError).code, 'full');
    t.regex((err as StoreUnavailableError).message, /disk full/);
    t.log(`${stored} events stored, then: ${(err as StoreUnavailableError).message}`);
    t.is(store.status().events, stored);

    fs.rmSync(filler);
    t.is(ids(await store.append(events('a', 10))).length, 10);
    t.is(store.status().events, stored + 10);
  } finally {
    await store.close();
    execFileSync('umount', [dataDir]);
  }
});
