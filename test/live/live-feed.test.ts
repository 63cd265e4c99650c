// The dashboard's live feed without a browser: fake sinks and a fake timer for the module, and one real socket.
import net from 'node:net';
import { Writable } from 'node:stream';
import test from 'ava';
import { pino } from 'pino';
import { LiveFeed, type LiveSink, type LiveTimers } from '../../gateway/src/live/live-feed.js';
import type { RecentEvent } from '../../gateway/src/live/spot-activity.js';
import { JSON_EVENTS, postChunks, startTestGateway, waitFor, within } from '../helpers/gateway.js';

/** A client stream that keeps everything written; `taken` bytes have left (as if the kernel took them). */
class FakeSink implements LiveSink {
  text = '';
  taken = 0;
  closed = false;
  maxUnsent = 0;
  private listeners: Array<() => void> = [];

  get writableLength(): number {
    return Buffer.byteLength(this.text) - this.taken;
  }

  write(chunk: string): void {
    if (this.closed) throw new Error('write after close');
    this.text += chunk;
    this.maxUnsent = Math.max(this.maxUnsent, this.writableLength);
  }

  close(): void {
    this.closed = true;
    for (const l of this.listeners.splice(0)) l();
  }

  onClose(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The client reads everything so far. */
  drain(): void {
    this.taken = Buffer.byteLength(this.text);
  }

  frames(): Array<{ event: string; id?: number; data: unknown }> {
    return this.text
      .split('\n\n')
      .filter((f) => f.includes('data: '))
      .map((f) => {
        const lines = f.split('\n');
        const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
        const id = field('id');
        return { event: field('event')!, id: id === undefined ? undefined : Number(id), data: JSON.parse(field('data')!) as unknown };
      });
  }

  eventIds(): number[] {
    return this.frames()
      .filter((f) => f.event === 'event')
      .map((f) => f.id!);
  }
}

/** setInterval by hand: tick() runs the registered function. */
class FakeTimers implements LiveTimers {
  fn: (() => void) | null = null;
  everyMs = 0;
  setInterval(fn: () => void, ms: number): unknown {
    this.fn = fn;
    this.everyMs = ms;
    return fn;
  }
  clearInterval(): void {
    this.fn = null;
  }
  tick(): void {
    this.fn?.();
  }
}

function event(id: number, spot = '7', data = '{"item_code":"e2"}'): RecentEvent {
  return { id, spot, resource: 'presence', action: 'create', data, timeReceived: 1000 + id };
}

function feed(options: { recent?: (spot: string) => RecentEvent[]; maxBufferedBytes?: number; maxClients?: number } = {}) {
  const timers = new FakeTimers();
  const logs: string[] = [];
  let snapshots = 0;
  const live = new LiveFeed({
    snapshot: () => ({ n: ++snapshots }),
    recent: options.recent ?? (() => []),
    timers,
    maxBufferedBytes: options.maxBufferedBytes,
    maxClients: options.maxClients,
    logger: { info: (_obj, msg) => logs.push(msg) },
  });
  return { live, timers, logs };
}

test('a client gets a status snapshot at once and one every second; no timer runs while nobody watches', (t) => {
  const { live, timers } = feed();
  t.is(timers.fn, null);
  const sink = new FakeSink();
  t.true(live.attach(sink, { kind: 'none' }).ok);
  t.true(sink.text.startsWith('retry: 2000\n\n'));
  t.deepEqual(sink.frames(), [{ event: 'status', id: undefined, data: { n: 1 } }]);
  t.is(timers.everyMs, 1000);
  timers.tick();
  timers.tick();
  t.deepEqual(
    sink.frames().map((f) => f.data),
    [{ n: 1 }, { n: 2 }, { n: 3 }],
  );
  sink.close();
  timers.tick();
  t.is(timers.fn, null, 'the timer stops at the first tick without clients');
});

test('events reach each client in commit order, each once, only those of the spot it asked for', (t) => {
  const { live } = feed();
  const all = new FakeSink();
  const seven = new FakeSink();
  const none = new FakeSink();
  live.attach(all, { kind: 'all' });
  live.attach(seven, { kind: 'spot', spot: '7' });
  live.attach(none, { kind: 'none' });
  live.publish([event(1), event(2)]);
  live.publish([event(3, '8')]);
  live.publish([event(4), event(5)]);
  live.publish([event(5), event(6)]); // 5 again: never sent twice
  t.deepEqual(all.eventIds(), [1, 2, 3, 4, 5, 6]);
  t.deepEqual(seven.eventIds(), [1, 2, 4, 5, 6]);
  t.deepEqual(none.eventIds(), []);
  const first = all.frames().find((f) => f.event === 'event')!;
  t.deepEqual(first.data, { id: 1, spot: '7', resource: 'presence', action: 'create', data: { item_code: 'e2' }, time_received: 1001 });
});

test("a spot's page gets its recent events first, from above the Last-Event-ID it resumes from, then the live ones", (t) => {
  const { live } = feed({ recent: (spot) => (spot === '7' ? [event(10), event(11), event(12)] : []) });
  const fresh = new FakeSink();
  const resumed = new FakeSink();
  live.attach(fresh, { kind: 'spot', spot: '7' });
  live.attach(resumed, { kind: 'spot', spot: '7' }, 11);
  live.publish([event(12), event(13)]);
  t.deepEqual(fresh.eventIds(), [10, 11, 12, 13]);
  t.deepEqual(resumed.eventIds(), [12, 13]);
});

test('a client that does not keep up is dropped before its unsent bytes pass the bound; the others go on', (t) => {
  const bound = 4096;
  const { live, logs } = feed({ maxBufferedBytes: bound });
  const slow = new FakeSink();
  const fast = new FakeSink();
  live.attach(slow, { kind: 'all' });
  live.attach(fast, { kind: 'all' });
  const data = JSON.stringify({ item_code: 'e'.repeat(200) });
  for (let id = 1; id <= 100; id++) {
    live.publish([event(id, '7', data)]);
    fast.drain();
  }
  t.true(slow.closed);
  t.true(slow.maxUnsent <= bound, `${slow.maxUnsent} bytes were unsent at once`);
  t.false(fast.closed);
  t.deepEqual(fast.eventIds(), Array.from({ length: 100 }, (_, i) => i + 1));
  // What the slow one got is a gap-free prefix: it resumes after its last id.
  const got = slow.eventIds();
  t.deepEqual(got, Array.from({ length: got.length }, (_, i) => i + 1));
  t.deepEqual(live.stats(), { clients: 1, dropped: 1 });
  t.is(logs.length, 1);
  t.regex(logs[0]!, /a client was dropped: \d+ bytes unsent, and the next frame would pass the limit of 4096 bytes/);
});

test('unsent bytes stay within the bound whatever the mix of frame sizes', (t) => {
  const bound = 10000;
  const { live, timers } = feed({ maxBufferedBytes: bound });
  for (let round = 0; round < 20; round++) {
    const sink = new FakeSink();
    live.attach(sink, { kind: 'all' });
    let id = round * 1000;
    while (!sink.closed) {
      const size = 1 + ((id * 7919) % 3000);
      live.publish([event(++id, '7', JSON.stringify({ pad: 'x'.repeat(size) }))]);
      if (id % 3 === 0) timers.tick();
      if (id % 5 === 0) sink.taken += Math.min(sink.writableLength, 2000);
    }
    t.true(sink.maxUnsent <= bound, `round ${round}: ${sink.maxUnsent} bytes unsent`);
  }
});

test('clients beyond the limit are refused; stop ends every stream and refuses new ones', (t) => {
  const { live } = feed({ maxClients: 2 });
  const a = new FakeSink();
  const b = new FakeSink();
  t.true(live.attach(a, { kind: 'none' }).ok);
  t.true(live.attach(b, { kind: 'none' }).ok);
  const refused = live.attach(new FakeSink(), { kind: 'none' });
  t.false(refused.ok);
  t.regex(refused.ok ? '' : refused.reason, /2 live clients already, the limit/);
  live.stop();
  t.true(a.closed && b.closed);
  t.false(live.attach(new FakeSink(), { kind: 'none' }).ok);
});

test('over a real socket: GET /api/live streams text/event-stream, and a reader that stops reading is dropped', async (t) => {
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  const gateway = await startTestGateway(t, { logger });
  const socket = net.connect(gateway.port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  let head = '';
  const headed = new Promise<void>((resolve) =>
    socket.on('data', (d: Buffer) => {
      head += d.toString();
      if (head.includes('event: status')) {
        // From here on the client reads nothing: the kernel's buffers fill, then the gateway's.
        socket.pause();
        socket.removeAllListeners('data');
        resolve();
      }
    }),
  );
  socket.write('GET /api/live?spot=all HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
  await within(headed, 5000, 'the live feed to answer');
  t.regex(head, /^HTTP\/1\.1 200 OK\r\n/);
  t.regex(head, /content-type: text\/event-stream; charset=utf-8/i);

  const item = `["presence","create",{"item_code":"${'e2'.repeat(2000)}"}]\n\n`;
  const batch = item.repeat(200);
  await waitFor(
    async () => {
      const post = await postChunks(gateway.port, 4711, [batch], { headers: JSON_EVENTS });
      if (post.status !== 200) throw new Error(`post answered ${post.status}`);
      return lines.some((l) => l.includes('live feed: a client was dropped'));
    },
    60000,
    'the gateway to drop the client that does not read',
  );
  t.pass();
});

test('a gateway with a dashboard open stops at once: the live stream ends, no grace is waited for', async (t) => {
  const gateway = await startTestGateway(t);
  const res = await fetch(`${gateway.url}/api/live`);
  const reader = res.body!.getReader();
  await reader.read();
  const started = Date.now();
  await within(gateway.stop(), 5000, 'the gateway to stop');
  t.true(Date.now() - started < 1500, `stop took ${Date.now() - started} ms`);
  await within(
    (async () => {
      for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return;
    })(),
    5000,
    'the live stream to end',
  );
});

test('HEAD /api/live answers 200 with the event-stream type and no body', async (t) => {
  const gateway = await startTestGateway(t);
  const res = await fetch(`${gateway.url}/api/live`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  t.is(await res.text(), '');
});
