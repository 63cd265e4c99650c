// GET /api/spots in pages: many spots in a real SQLite registry, paged through by the Link header,
// the byte bound, a small site answered whole, and bad bounds refused.
import test from 'ava';
import { MAX_SPOTS_LIMIT, SPOTS_PAGE_BYTES } from '../../gateway/src/api/spots.js';
import { LIVE_SPOTS } from '../../gateway/src/live/snapshot.js';
import { openStore } from '../../gateway/src/store/index.js';
import { recordingLogger } from '../store/helpers.js';
import { api, JSON_EVENTS, postChunks, startTestGateway, tempDir } from '../helpers/gateway.js';

interface SpotRow {
  serial: string;
  online: boolean;
  events: number;
}

const MANY = 100_000;

/** A registry of `count` spots written straight into the data directory's store (serials 1..count). */
async function registryOf(dataDir: string, count: number, configBytes = 0): Promise<void> {
  const store = openStore({ logger: recordingLogger(), dataDir });
  // Heard from now: spots silent past spots.forget_after_s would be forgotten while the test pages.
  const now = Date.now();
  try {
    for (let i = 1; i <= count; i++) {
      store.spots.recordPost(String(i), { firmwareVersion: 'spot/1.0', events: i % 7, rejected: 0, duplicates: 0, now: now + i });
      if (configBytes > 0) store.spots.recordConfigCreate(String(i), { hostname: `spot-${i}`, note: 'x'.repeat(configBytes) });
    }
  } finally {
    await store.close();
  }
}

function nextLink(headers: Headers): string | null {
  const link = headers.get('link');
  if (link === null) return null;
  const m = /^<([^>]+)>; rel="next"$/.exec(link);
  if (!m) throw new Error(`Link header "${link}" is not one rel="next" link`);
  return m[1]!;
}

test(`${MANY} spots page through by the Link header in a stable order, each spot once, new spots included`, async (t) => {
  const dataDir = tempDir(t);
  await registryOf(dataDir, MANY);
  const gw = await startTestGateway(t, { dataDir });
  // Two spots heard from now: in memory first (written with the next commit), listed all the same.
  for (const serial of [MANY + 1, MANY + 2]) {
    const posted = await postChunks(gw.port, serial, ['["hit","create",{"item":"a"}]\n\n'], { headers: JSON_EVENTS });
    t.is(posted.status, 200);
  }

  const first = await api<SpotRow[]>(gw.url, '/api/spots');
  t.is(first.status, 200);
  t.is(first.body.length, MAX_SPOTS_LIMIT, 'the default page is the longest');
  t.is(first.headers.get('x-total-count'), String(MANY + 2));

  const seen: string[] = [];
  let next: string | null = '/api/spots?after=0&limit=1000';
  let pages = 0;
  while (next !== null) {
    const page: { status: number; body: SpotRow[]; headers: Headers } = await api<SpotRow[]>(gw.url, next);
    t.is(page.status, 200, next);
    for (const spot of page.body) seen.push(spot.serial);
    next = nextLink(page.headers);
    pages++;
    if (pages > 200) throw new Error('more pages than the spots can fill');
  }
  t.is(seen.length, MANY + 2, 'every spot once');
  t.is(new Set(seen).size, seen.length, 'no spot twice');
  t.true(seen.every((s, i) => i === 0 || seen[i - 1]! < s), 'in serial order as text');
  t.deepEqual(seen.slice(0, 4), ['1', '10', '100', '1000']);
  t.deepEqual(first.body.map((s) => s.serial), seen.slice(0, MAX_SPOTS_LIMIT), 'the default answer is the first page');
  t.true(first.body.find((s) => s.serial === '1')!.events === 1);
  t.true(seen.includes(String(MANY + 1)) && seen.includes(String(MANY + 2)));

  // Paging down from the last serial gives the same spots in reverse.
  const down: string[] = [];
  next = `/api/spots?before=${seen.at(-1)!}&limit=1000`;
  while (next !== null) {
    const page: { status: number; body: SpotRow[]; headers: Headers } = await api<SpotRow[]>(gw.url, next);
    for (const spot of page.body) down.push(spot.serial);
    next = nextLink(page.headers);
  }
  t.deepEqual(down, seen.slice(0, -1).reverse());

  const small = await api<SpotRow[]>(gw.url, '/api/spots?after=99990&limit=3');
  t.deepEqual(small.body.map((s) => s.serial), ['99991', '99992', '99993']);
  t.is(nextLink(small.headers), '/api/spots?after=99993&limit=3');
  const last = await api<SpotRow[]>(gw.url, `/api/spots?after=${seen.at(-1)!}`);
  t.deepEqual([last.status, last.body, last.headers.get('link')], [200, [], null], 'past the last spot: empty, no next link');

  // The dashboard's live feed: the first page of spots each second, with the count of all.
  const frame = await liveStatusFrame(gw.url);
  t.is(frame.spots.length, LIVE_SPOTS);
  t.deepEqual(frame.spots.map((s) => s.serial), seen.slice(0, LIVE_SPOTS));
  t.is(frame.status.spots.known, MANY + 2);
});

/** The first status frame of GET /api/live, read off the stream (bounded). */
async function liveStatusFrame(url: string): Promise<{ spots: Array<{ serial: string }>; status: { spots: { known: number } } }> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/live`, { signal: AbortSignal.any([abort.signal, AbortSignal.timeout(10000)]) });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the live feed ended before a whole status frame: ${text.slice(0, 200)}`);
      text += decoder.decode(value, { stream: true });
      const m = /event: status\ndata: (.*)\n\n/.exec(text);
      if (m) return JSON.parse(m[1]!) as { spots: Array<{ serial: string }>; status: { spots: { known: number } } };
    }
  } finally {
    abort.abort();
  }
}

test('a page ends before the spot that would take it past 1 MiB of JSON, and the next page goes on from there', async (t) => {
  const dataDir = tempDir(t);
  // About 100 KiB per spot: ten fit in a page.
  await registryOf(dataDir, 25, 100_000);
  const gw = await startTestGateway(t, { dataDir });
  const seen: string[] = [];
  let next: string | null = '/api/spots';
  while (next !== null) {
    const page: { status: number; body: SpotRow[]; headers: Headers } = await api<SpotRow[]>(gw.url, next);
    t.is(page.status, 200);
    const bytes = page.body.reduce((n, s) => n + Buffer.byteLength(JSON.stringify(s)), 0);
    t.true(bytes <= SPOTS_PAGE_BYTES, `a page of ${bytes} bytes`);
    t.true(page.body.length >= 1 && page.body.length <= 10);
    for (const spot of page.body) seen.push(spot.serial);
    next = nextLink(page.headers);
  }
  t.is(seen.length, 25);
  t.is(new Set(seen).size, 25);
});

test('a small site gets every spot in one answer without paging', async (t) => {
  const gw = await startTestGateway(t);
  for (const serial of [3, 12, 7]) {
    t.is((await postChunks(gw.port, serial, ['["hit","create",{"item":"a"}]\n\n'], { headers: JSON_EVENTS })).status, 200);
  }
  const all = await api<SpotRow[]>(gw.url, '/api/spots');
  t.deepEqual(all.body.map((s) => [s.serial, s.online]), [['12', true], ['3', true], ['7', true]]);
  t.is(all.headers.get('x-total-count'), '3');
  t.is(all.headers.get('link'), null);
});

test('bad bounds are refused with 400 naming the parameter', async (t) => {
  const gw = await startTestGateway(t);
  const cases: Array<[string, string]> = [
    ['limit=0', 'limit 0 is out of range 1..1000'],
    ['limit=1001', 'limit 1001 is out of range 1..1000'],
    ['limit=ten', 'limit "ten" is not an integer'],
    ['after=abc', 'after: serial "abc" is not a positive integer'],
    ['before=-3', 'before: serial "-3" is not a positive integer'],
    ['after=99999999999999999', 'after: serial "99999999999999999" is not a positive integer'],
    ['after=1&before=9', 'after and before: give one of them (after pages up in serial order, before pages down)'],
  ];
  for (const [query, reason] of cases) {
    const answer = await api(gw.url, `/api/spots?${query}`);
    t.deepEqual([answer.status, answer.body], [400, { error: 'bad request', reason }], query);
  }
  const before0 = await api(gw.url, '/api/spots?before=0');
  t.deepEqual([before0.status, before0.body], [200, []]);
});
