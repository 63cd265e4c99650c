import test from 'ava';
import { FairScheduler } from '../../gateway/src/upstream/scheduler.js';

const noCursor = () => 0;

test('after a reset every backlogged spot resumes right after its cursor', (t) => {
  const s = new FairScheduler();
  s.reset([
    { spot: 'a', cursor: 10, lastId: 50 },
    { spot: 'b', cursor: 30, lastId: 30 },
    { spot: 'c', cursor: 5, lastId: 7 },
  ]);
  t.deepEqual(s.next(), { spot: 'a', afterId: 10 });
  t.deepEqual(s.next(), { spot: 'c', afterId: 5 });
  t.is(s.next(), undefined);
});

test('a live event of another spot waits at most one turn behind a huge backlog', (t) => {
  const s = new FairScheduler();
  s.reset([{ spot: 'backlog', cursor: 0, lastId: 1_000_000 }]);
  const order: string[] = [];
  let turn = s.next()!;
  order.push(turn.spot);
  s.turnDone(turn.spot, turn.afterId + 64, true);
  s.appended('live', 1_000_001, noCursor);
  for (let i = 0; i < 4; i++) {
    turn = s.next()!;
    order.push(turn.spot);
    s.turnDone(turn.spot, turn.afterId + (turn.spot === 'live' ? 1 : 64), turn.spot === 'backlog');
  }
  t.deepEqual(order, ['backlog', 'backlog', 'live', 'backlog', 'backlog']);
});

test('round robin: many backlogged spots take turns, each resuming where it stopped', (t) => {
  const s = new FairScheduler();
  s.reset(['a', 'b', 'c'].map((spot) => ({ spot, cursor: 0, lastId: 100 })));
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) {
    const turn = s.next()!;
    seen.push(`${turn.spot}>${turn.afterId}`);
    s.turnDone(turn.spot, turn.afterId + 10, true);
  }
  t.deepEqual(seen, ['a>0', 'b>0', 'c>0', 'a>10', 'b>10', 'c>10']);
});

test('a spot whose read came back short leaves the rotation until it gets new events', (t) => {
  const s = new FairScheduler();
  s.reset([{ spot: 'a', cursor: 0, lastId: 3 }]);
  const turn = s.next()!;
  s.turnDone(turn.spot, 3, false);
  t.is(s.next(), undefined);
  s.appended('a', 3, noCursor);
  t.is(s.next(), undefined, 'an event already read does not bring the spot back');
  s.appended('a', 4, noCursor);
  t.deepEqual(s.next(), { spot: 'a', afterId: 3 });
});

test('a spot not tracked yet starts after its stored cursor, not from 0', (t) => {
  const s = new FairScheduler();
  s.reset([]);
  s.appended('new', 120, (spot) => (spot === 'new' ? 100 : 0));
  t.deepEqual(s.next(), { spot: 'new', afterId: 100 });
});

test('a spot is queued once however many appends arrive before its turn', (t) => {
  const s = new FairScheduler();
  s.reset([]);
  for (let id = 1; id <= 5; id++) s.appended('a', id, noCursor);
  t.is(s.waiting, 1);
  t.truthy(s.next());
  t.is(s.next(), undefined);
});
