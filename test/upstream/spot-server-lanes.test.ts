// The spot-server forwarder's memory with many spots: lanes with nothing to do are released.
import test from 'ava';
import type { PostAnswer } from '../../gateway/src/upstream/spot-server/index.js';
import { waitFor } from '../helpers/wait.js';
import { HandTimers, Server, Source, answer, forwarder, ok } from './spot-server-fakes.js';

test('lanes of spots with nothing pending are released a poll period after their last post; held and busy ones stay', async (t) => {
  const source = new Source();
  const server = new Server();
  server.answer = async (request) => {
    if (request.serial === 'held') return answer(400);
    if (request.serial === 'busy') return new Promise<PostAnswer>(() => undefined);
    return ok();
  };
  let now = 10_000;
  const f = forwarder(source, server, new HandTimers(), [], { now: () => now, maxPostsInFlight: 64, stopTimeoutMs: 50 });
  f.start();
  const SPOTS = 3000;
  for (let i = 1; i <= SPOTS; i++) source.add(`s${i}`, 1);
  source.add('held', 2);
  source.add('busy', 2);
  await waitFor(() => (source.durable.size === SPOTS ? true : undefined), 20000, 'every spot forwarded and committed');
  await waitFor(() => (f.status().spotsHeld === 1 && f.status().inFlight === 1 ? true : undefined), 5000, 'one spot held, one posting');
  t.is(f.status().spotsTracked, SPOTS + 2, 'one lane per spot so far');

  // Within the poll period nothing is released; after it, every lane with nothing to do goes.
  now += 500;
  source.notify('s1', 1);
  t.is(f.status().spotsTracked, SPOTS + 2);
  now += 1000;
  source.notify('s1', 1);
  t.is(f.status().spotsTracked, 3, 's1 (notified again), the held spot and the busy one');

  // A released spot heard again is a new lane: its poll is due, as it was for the old one.
  const before = server.requests.length;
  f.heard('s2');
  await waitFor(() => (server.requests.length > before ? true : undefined), 5000, 'the poll of s2');
  t.deepEqual([server.requests.at(-1)!.serial, server.requests.at(-1)!.chunks], ['s2', []]);
  t.is(source.durable.get('s2'), 2, 'its cursor stayed where it was');
  await f.stop();
});
