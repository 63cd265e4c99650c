// The log level at run time through the API, and the lines for a person at a terminal.
import test from 'ava';
import { createLogger } from '../../gateway/src/log.js';
import { prettyLine } from '../../gateway/src/log-pretty.js';
import { api, JSON_EVENTS, postChunks, startTestGateway, waitFor } from '../helpers/gateway.js';
import { jsonText, presence } from '../http/events.js';

interface Line {
  level: number;
  msg: string;
  to?: string;
  from?: string;
}

function collector(): { lines: Line[]; destination: { write(line: string): void } } {
  const lines: Line[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(JSON.parse(line) as Line) } };
}

test('PUT /api/log-level changes the level at once; GET says it; the change is logged', async (t) => {
  const { lines, destination } = collector();
  const gw = await startTestGateway(t, { logger: createLogger({ level: 'warn', destination }) });
  t.deepEqual((await api(gw.url, '/api/log-level')).body, { level: 'warn' });

  t.is((await postChunks(gw.port, 31, [jsonText([presence(1)])], { headers: JSON_EVENTS })).status, 200);
  const res = await api(gw.url, '/api/log-level', { method: 'PUT', body: { level: 'info' } });
  t.deepEqual([res.status, res.body], [200, { level: 'info', previous: 'warn' }]);
  t.deepEqual((await api(gw.url, '/api/log-level')).body, { level: 'info' });
  const changed = lines.find((l) => l.msg.startsWith('log level warn -> info'));
  t.like(changed, { level: 40, to: 'info', from: 'warn' });

  // At info a spot coming online is logged; at warn (before) it was not.
  t.is((await postChunks(gw.port, 32, [jsonText([presence(2)])], { headers: JSON_EVENTS })).status, 200);
  await waitFor(() => lines.find((l) => l.msg === 'spot 32: connected'), 5000, 'spot 32 logged at info');
  t.false(lines.some((l) => l.msg === 'spot 31: connected'));
  t.is(gw.running.logLevel(), 'info');
});

test('PUT /api/log-level refuses what is not a level, naming the levels', async (t) => {
  const gw = await startTestGateway(t);
  for (const body of [{ level: 'loud' }, { level: 3 }, {}, ['debug']]) {
    const res = await api<{ error: string; reason: string }>(gw.url, '/api/log-level', { method: 'PUT', body });
    t.is(res.status, 400, JSON.stringify(body));
    t.regex(res.body.reason, /^level must be one of fatal, error, warn, info, debug, trace, silent \(got /);
  }
  t.deepEqual((await api(gw.url, '/api/log-level')).body, { level: 'silent' }, 'unchanged');
});

test('pretty lines: time, level, part, message, then the other fields', (t) => {
  const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5, 678), pid: 1, hostname: 'h', name: 'spot-gateway', part: 'mqtt', msg: 'down', reason: 'ECONNREFUSED', spot: '12', n: 3, text: 'two words' });
  t.is(prettyLine(line), '03:04:05.678 WARN  [mqtt] down  reason=ECONNREFUSED spot=12 n=3 text="two words"\n');
  t.is(prettyLine(JSON.stringify({ level: 30, msg: 'plain' })), '--:--:--.--- INFO  plain\n');
  t.is(prettyLine('not json'), 'not json\n');
  t.is(prettyLine('{"level":35,"time":"x"}\n'), '--:--:--.--- 35    \n', 'an unknown level, a time that is not a number, no message');
});

test('a pretty logger writes pretty lines to its destination', (t) => {
  const out: string[] = [];
  const logger = createLogger({ level: 'info', pretty: true, destination: { write: (s: string) => void out.push(s) } });
  logger.child({ part: 'store' }).info({ events: 3 }, 'opened');
  t.is(out.length, 1);
  t.regex(out[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[store\] opened {2}events=3\n$/);
});
