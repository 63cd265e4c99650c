// Hand-overs to the upstreams never skip a committed id (docs/storage.md, "A failed fsync").
import test from 'ava';
import { HandOver } from '../../gateway/src/store/hand-over.js';
import type { StoredEvent } from '../../gateway/src/store/types.js';

function recording() {
  const calls: Array<[string, number, number[] | undefined]> = [];
  const log = {
    acknowledgedId: 10,
    acknowledge(id: number): void {
      this.acknowledgedId = Math.max(this.acknowledgedId, id);
    },
  };
  const handOver = new HandOver(log, (spot, lastId, events) => calls.push([spot, lastId, events?.map((e) => e.id)]));
  return { calls, log, handOver };
}

const stored = (spot: string, ...ids: number[]): StoredEvent[] => ids.map((id) => ({ id, spot }) as StoredEvent);

test('a spot whose commit failed its fsync is handed over, to be read back, before the next commit that may go upstream', (t) => {
  const { calls, log, handOver } = recording();
  handOver.owe(new Map([['7', 12]]));
  t.true(handOver.needsSync, 'owed with no fsync on its way');
  t.is(log.acknowledgedId, 10, 'reads do not reach the failed commit yet');
  handOver.deliver(new Map([['7', 14], ['8', 13]]), new Map([['7', stored('7', 14)], ['8', stored('8', 13)]]));
  t.deepEqual(calls, [['7', 12, undefined], ['7', 14, [14]], ['8', 13, [13]]]);
  t.is(log.acknowledgedId, 14);
  t.false(handOver.needsSync);
});

test('with nothing else to sync, an fsync of its own settles what is owed; a failed one leaves it owed', (t) => {
  const { calls, handOver } = recording();
  handOver.owe(new Map([['7', 12]]));
  const first = handOver.retry();
  t.false(handOver.needsSync, 'one retry at a time');
  first.fail(Object.assign(new Error('EIO'), { code: 'io' }) as never);
  t.true(handOver.needsSync);
  handOver.retry().ack();
  t.deepEqual(calls, [['7', 12, undefined]]);
  t.false(handOver.needsSync);
});

test('rows a reopen finds that no commit reported are owed too', (t) => {
  const { calls, handOver } = recording();
  handOver.reloaded(new Map([['7', 12], ['8', 9]]), new Map([['7', 15], ['8', 9], ['9', 16]]));
  handOver.retry().ack();
  t.deepEqual(calls, [['7', 15, undefined], ['9', 16, undefined]]);
});
