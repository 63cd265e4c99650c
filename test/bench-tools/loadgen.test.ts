// The C load generator against a node:http server (node parses the chunked encoding; the
// gateway's own JSON decoder checks the events).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createJsonDecoder, type SpotEvent } from '../../gateway/src/protocol/index.js';
import { loadArguments, runLoad, startBenchTool, type LoadOptions, type LoadResult } from '../bench/gateway/loadgen.js';

test.before(() => {
  execFileSync('make', ['-s', 'bench-tools'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'pipe', timeout: 120_000 });
});

/** One post as the server saw it: its body's pieces as node delivered them (one per chunk, or a
 * chunk's parts when a read ended inside it), each with the server's clock at its arrival. */
interface ReceivedPost {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  pieces: { bytes: Buffer; at: number }[];
  status: number;
}

async function startSpotServer(answer: (postIndex: number) => number): Promise<{ port: number; posts: ReceivedPost[]; close(): Promise<void> }> {
  const posts: ReceivedPost[] = [];
  const server = http.createServer((req, res) => {
    const post: ReceivedPost = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, pieces: [], status: 0 };
    const index = posts.push(post) - 1;
    req.on('data', (bytes: Buffer) => post.pieces.push({ bytes, at: Date.now() }));
    req.on('end', () => {
      post.status = answer(index);
      res.writeHead(post.status, { 'Content-Length': '0' }).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    posts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function options(port: number, overrides: Partial<LoadOptions>): LoadOptions {
  return { host: '127.0.0.1', port, spots: 3, durationMs: 2000, rate: 0, postWindowMs: 300, firstSerial: 4711, stampEvents: false, ...overrides };
}

/** Decodes a post's body piece by piece; `perPiece` is how many events each piece completed. */
function decodePost(post: ReceivedPost): { events: SpotEvent[]; perPiece: number[]; rejected: string[] } {
  const decoder = createJsonDecoder();
  const events: SpotEvent[] = [];
  const rejected: string[] = [];
  const perPiece: number[] = [];
  for (const piece of post.pieces) {
    const items = decoder.push(piece.bytes);
    perPiece.push(items.length);
    for (const item of items) {
      if (item.kind === 'event') events.push(item.event);
      else rejected.push(item.rejected.reason);
    }
  }
  for (const item of decoder.end()) rejected.push(item.kind === 'rejected' ? item.rejected.reason : 'event after the body');
  return { events, perPiece, rejected };
}

function checkHeaders(t: import('ava').ExecutionContext, post: ReceivedPost, serials: Set<string>): void {
  const serial = /^\/api\/spots\/(\d+)\/events\/$/.exec(post.url)?.[1];
  t.is(post.method, 'POST');
  t.true(serial !== undefined && serials.has(serial), `unexpected path ${post.url}`);
  t.is(post.headers['transfer-encoding'], 'chunked');
  t.is(post.headers['user-agent'], 'spot/bench');
  t.is(post.headers['content-type'], 'text/x-intellifi-events');
}

test.serial('paced: one valid stamped event per chunk, posts per window, counts match what the server saw and answered', async (t) => {
  // Every fourth post is refused: those count as failed posts and their events as not acknowledged.
  const server = await startSpotServer((i) => (i % 4 === 3 ? 503 : 200));
  t.teardown(() => server.close());
  // One event per spot every 100 ms: only a stall of the load generator that long (a busy machine)
  // makes a chunk of two, holding the events that came due meanwhile.
  const result = await runLoad(options(server.port, { rate: 30, stampEvents: true }), { echo: false });
  const chunkSizes: number[] = [];

  const serials = new Set(['4711', '4712', '4713']);
  t.deepEqual(new Set(server.posts.map((p) => /\/spots\/(\d+)\//.exec(p.url)?.[1])), serials);
  t.true(server.posts.length > serials.size, 'a spot makes a new post every window');
  let received = 0;
  let answered200 = 0;
  for (const post of server.posts) {
    checkHeaders(t, post, serials);
    const { events, rejected } = decodePost(post);
    t.deepEqual(rejected, []);
    // Pieces are whole chunks unless a read ended inside one: regroup those, then one event each.
    let pending = Buffer.alloc(0);
    for (const piece of post.pieces) {
      pending = Buffer.concat([pending, piece.bytes]);
      if (!pending.toString('latin1').endsWith('}]\n\n')) continue;
      t.regex(pending.toString(), /,"bench_t":\d{13}\.\d{3}\}\]\n\n$/, 'the stamp: ms since the epoch, 3 decimals, last in the object');
      const items = createJsonDecoder().push(pending);
      chunkSizes.push(items.length);
      for (const item of items) {
        const stamp = item.kind === 'event' ? item.event.data.bench_t : undefined;
        t.true(typeof stamp === 'number' && Math.abs(piece.at - stamp) < 1000, `stamp ${String(stamp)} received at ${piece.at}`);
      }
      pending = Buffer.alloc(0);
    }
    t.true(events.every((e) => ['presence', 'hit', 'config'].includes(e.resource)));
    received += events.length;
    if (post.status === 200) answered200 += events.length;
  }
  t.true(received > 0);
  t.true(received <= 30 * 2, 'never more than the rate asked (30 events/s for 2 s)');
  t.true(chunkSizes.every((n) => n >= 1 && n <= 50), `chunk sizes ${chunkSizes.join(',')}`);
  t.true(chunkSizes.filter((n) => n === 1).length >= 0.9 * chunkSizes.length, `chunk sizes ${chunkSizes.join(',')}`);
  t.is(result.sentEvents, received);
  t.is(result.ackedEvents, answered200);
  t.is(result.failedPosts, server.posts.filter((p) => p.status === 503).length);
  t.true(result.failedPosts > 0);
});

// makeEvent() of the former TypeScript load generator, serial 1001, events 0-39 (2 chunks).
const FIRST_40_EVENTS_OF_1001_SHA256 = '90bf9708607b1bd17ef0e2b34007bfb0de01f8006f1929830d78f86e280a1ae1';
const FIRST_EVENT_OF_1001 =
  '["presence","create",{"item_code":"e28011700000020a1b2c3d07","item_codetype":"EPC Gen2","time_started":"2026-05-28T20:26:40.000Z",' +
  '"time_last":"2026-05-28T20:26:40.000Z","proximity":"immediate","hold_delay_s":4}]\n\n';

test.serial('throughput: chunks of 20 events, byte for byte the events spots send, every event acknowledged', async (t) => {
  const server = await startSpotServer(() => 200);
  t.teardown(() => server.close());
  const result = await runLoad(options(server.port, { spots: 2, durationMs: 300, postWindowMs: 100, firstSerial: 1000 }), { echo: false });

  let received = 0;
  let fullChunks = 0;
  for (const post of server.posts) {
    checkHeaders(t, post, new Set(['1000', '1001']));
    const { events, perPiece, rejected } = decodePost(post);
    t.deepEqual(rejected, []);
    // A piece is a chunk or part of one (node never joins two chunks into one piece).
    t.true(perPiece.every((n) => n <= 20), `pieces completed ${perPiece.join(',')} events`);
    fullChunks += perPiece.filter((n) => n === 20).length;
    t.is(events.length % 20, 0, 'a post ends between chunks');
    received += events.length;
  }
  t.true(fullChunks > 0);
  const first = server.posts.find((p) => p.url === '/api/spots/1001/events/')!;
  const body = Buffer.concat(first.pieces.map((p) => p.bytes));
  t.is(body.subarray(0, FIRST_EVENT_OF_1001.length).toString(), FIRST_EVENT_OF_1001);
  t.true(body.length >= 7606, 'the first post holds at least 40 events');
  t.is(createHash('sha256').update(body.subarray(0, 7606)).digest('hex'), FIRST_40_EVENTS_OF_1001_SHA256);
  t.true(received > 0);
  t.is(result.sentEvents, received);
  t.is(result.ackedEvents, received);
  t.is(result.failedPosts, 0);
});

test.serial('throughput with --post-events: each post ends at that many events, within its window', async (t) => {
  const server = await startSpotServer(() => 200);
  t.teardown(() => server.close());
  const result = await runLoad(options(server.port, { spots: 2, durationMs: 400, postWindowMs: 60_000, postEvents: 60, firstSerial: 1000 }), {
    echo: false,
  });
  const counts = server.posts.map((post) => decodePost(post).events.length);
  // Each spot's last post is ended by the run's stop and may hold fewer; every other one ends at 60.
  const bySpot = new Map<string, number[]>();
  server.posts.forEach((post, i) => bySpot.set(post.url, [...(bySpot.get(post.url) ?? []), counts[i]!]));
  t.is(bySpot.size, 2);
  for (const [url, posts] of bySpot) {
    t.true(posts.length >= 2, `${url}: ${posts.join(',')}`);
    t.true(
      posts.slice(0, -1).every((n) => n === 60) && posts.at(-1)! <= 60,
      `${url}: every post ends at 60 events though its window is a minute: ${posts.join(',')}`,
    );
  }
  t.is(result.ackedEvents, counts.reduce((a, b) => a + b, 0));
});

test.serial('--pretty-share: that share of the spots lays events out as the vendor does, with the same data', async (t) => {
  // The same spots and events, first all compact, then all pretty-printed, then half and half.
  const runs: { posts: ReceivedPost[] }[] = [];
  for (const prettyShare of [0, 100, 50]) {
    const server = await startSpotServer(() => 200);
    t.teardown(() => server.close());
    const result = await runLoad(options(server.port, { spots: 4, durationMs: 300, postWindowMs: 100, firstSerial: 1000, prettyShare }), { echo: false });
    t.true(result.ackedEvents > 0);
    runs.push(server);
  }
  const firstEvents = (posts: ReceivedPost[], serial: number) => {
    const post = posts.find((p) => p.url === `/api/spots/${serial}/events/`)!;
    const { events, rejected } = decodePost(post);
    t.deepEqual(rejected, []);
    // What the events say (offsets and the decoder's compact-text shortcut differ with the layout).
    const said = events.slice(0, 20).map(({ resource, action, data }) => ({ resource, action, data }));
    return { text: Buffer.concat(post.pieces.map((p) => p.bytes)).toString(), events: said };
  };
  const vendorLayout = /^\["(presence|hit|config)","(create|update|delete)",\{\n(\t"[a-z_]+":\t[^\n]+,\n)*\t"[a-z_]+":\t[^\n]+\n\}\]\n\n/;
  for (const serial of [1000, 1001, 1002, 1003]) {
    const compact = firstEvents(runs[0]!.posts, serial);
    const pretty = firstEvents(runs[1]!.posts, serial);
    const mixed = firstEvents(runs[2]!.posts, serial);
    t.false(compact.text.includes('\t'), `${serial}: compact`);
    t.regex(pretty.text, vendorLayout, `${serial}: pretty`);
    t.is(compact.events.length, 20);
    t.deepEqual(pretty.events, compact.events, `${serial}: the same events either way`);
    // Half and half, spread evenly: every second spot.
    t.is(mixed.text.includes('\t'), serial % 2 === 1, `${serial} in the half-and-half run`);
    t.deepEqual(mixed.events, compact.events);
  }
});

test.serial('a connection closed while waiting for the answer counts a failed post', async (t) => {
  // Answers nothing and closes each connection once its first post has ended.
  const server = net.createServer((socket) => {
    let seen = '';
    socket.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      if (seen.includes('\r\n0\r\n\r\n')) socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const run = await startBenchTool('loadgen', loadArguments(options(port, { spots: 2, durationMs: 600, rate: 200, postWindowMs: 200 })), {
    timeoutMs: 30_000,
  }).done;
  t.is(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as LoadResult;
  t.is(result.failedPosts, 2);
  t.is(result.ackedEvents, 0);
  t.true(result.sentEvents > 0);
  t.regex(run.stderr, /lost its connection \d+ ms into the run: closed by the server/);
  t.regex(run.stderr, /2 of 2 spots lost their connection/);
});

test('cannot connect: exit code 1 and the address it tried', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const run = await startBenchTool('loadgen', ['--port', String(port), '--spots', '1', '--seconds', '1'], { timeoutMs: 10_000 }).done;
  t.is(run.code, 1);
  t.regex(run.stderr, new RegExp(`cannot connect to 127\\.0\\.0\\.1:${port}`));
  t.is(run.stdout, '');
});

for (const [args, named] of [
  [[], '--port'],
  [['--port', '0'], '--port'],
  [['--port', '80', '--spots', 'many'], '--spots'],
  [['--port', '80', '--rate', '-5'], '--rate'],
  [['--port', '80', '--seconds', '0'], '--seconds'],
  [['--port', '80', '--window-ms'], '--window-ms'],
  [['--port', '80', '--post-events', '-1'], '--post-events'],
  [['--port', '80', '--first-serial', '1.5'], '--first-serial'],
  [['--port', '80', '--pretty-share', '101'], '--pretty-share'],
  [['--port', '80', '--spot', '3'], '--spot'],
] as const) {
  test(`bad arguments: ${args.join(' ') || '(none)'} -> exit code 1 naming ${named}`, async (t) => {
    const run = await startBenchTool('loadgen', [...args], { timeoutMs: 10_000 }).done;
    t.is(run.code, 1);
    t.true(run.stderr.includes(named), run.stderr);
    t.is(run.stdout, '');
  });
}
