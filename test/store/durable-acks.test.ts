// Durability full: nothing is acknowledged before the fsync of the WAL that covers its commit.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { DurableAcks } from '../../gateway/src/store/durable-acks.js';
import { StoreUnavailableError } from '../../gateway/src/store/types.js';
import { WalSync } from '../../gateway/src/store/wal-sync.js';
import { tempDir } from './helpers.js';

/** A WalSync whose fsyncs finish when the test says so. */
class ManualSync {
  pending: Array<(err: Error | null) => void> = [];
  syncNowCalls = 0;
  sync(done: (err: Error | null) => void): void {
    this.pending.push(done);
  }
  syncNow(): void {
    this.syncNowCalls++;
  }
  finish(err: Error | null = null): void {
    this.pending.shift()!(err);
  }
}

function recorder(log: string[], name: string) {
  return { ack: () => log.push(`${name} ack`), fail: (e: StoreUnavailableError) => log.push(`${name} fail ${e.code}`) };
}

const toUnavailable = (err: unknown) => new StoreUnavailableError(`store: WAL fsync failed: ${String(err)}`, 'io', 5);

test('acks wait for the fsync; commits during an fsync wait for the next one', (t) => {
  const wal = new ManualSync();
  const acks = new DurableAcks(wal as unknown as WalSync, toUnavailable);
  const log: string[] = [];
  acks.add(recorder(log, 'a'));
  acks.add(recorder(log, 'b'));
  t.deepEqual(log, [], 'nothing acknowledged before the disk said so');
  t.is(wal.pending.length, 1, 'one fsync in flight');
  wal.finish();
  t.deepEqual(log, ['a ack']);
  t.is(wal.pending.length, 1, 'b was committed after the first fsync started: a second one covers it');
  wal.finish();
  t.deepEqual(log, ['a ack', 'b ack']);
  t.is(wal.pending.length, 0);
});

test('a failed fsync fails what it covered; later commits get their own', (t) => {
  const wal = new ManualSync();
  const acks = new DurableAcks(wal as unknown as WalSync, toUnavailable);
  const log: string[] = [];
  acks.add(recorder(log, 'a'));
  wal.finish(new Error('EIO'));
  acks.add(recorder(log, 'b'));
  wal.finish();
  t.deepEqual(log, ['a fail io', 'b ack']);
});

test('syncNow acknowledges everything committed, and a late async fsync does not ack twice', (t) => {
  const wal = new ManualSync();
  const acks = new DurableAcks(wal as unknown as WalSync, toUnavailable);
  const log: string[] = [];
  acks.add(recorder(log, 'a'));
  acks.add(recorder(log, 'b'));
  acks.syncNow();
  t.deepEqual(log, ['a ack', 'b ack']);
  t.is(wal.syncNowCalls, 1);
  wal.finish();
  t.deepEqual(log, ['a ack', 'b ack']);
});

test('without a WalSync (durability normal/off) a commit is acknowledged at once', (t) => {
  const acks = new DurableAcks(null, toUnavailable);
  const log: string[] = [];
  acks.add(recorder(log, 'a'));
  t.deepEqual(log, ['a ack']);
});

test('WalSync fsyncs the real WAL file, follows a new file at the path, and has nothing to do without one', async (t) => {
  const dir = tempDir(t);
  const walPath = path.join(dir, 'x.db-wal');
  const wal = new WalSync(walPath);
  t.notThrows(() => wal.syncNow(), 'no WAL file: nothing waits in one');
  fs.writeFileSync(walPath, 'frames');
  t.is(await new Promise<Error | null>((r) => wal.sync(r)), null);
  fs.rmSync(walPath);
  fs.writeFileSync(walPath, 'a new WAL');
  t.notThrows(() => wal.syncNow());
  t.is(await new Promise<Error | null>((r) => wal.sync(r)), null);
  wal.invalidate();
});
