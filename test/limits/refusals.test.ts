// Refusals before any route: counted per kind, logged at most once a minute per kind with the count of those not logged.
import test from 'ava';
import { REFUSAL_KINDS, RequestRefusals } from '../../gateway/src/limits/refusals.js';

function logged(): { lines: Array<{ obj: Record<string, unknown>; msg: string }>; logger: { warn(obj: object, msg: string): void } } {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  return { lines, logger: { warn: (obj, msg) => void lines.push({ obj: obj as Record<string, unknown>, msg }) } };
}

test('every kind is counted from 0; a flood of one kind is one line a minute, the next saying how many were not logged', (t) => {
  const log = logged();
  let now = 1_000_000;
  const refusals = new RequestRefusals(log.logger, () => now, 60_000);
  t.deepEqual(
    refusals.counts().map((c) => [c.status, c.reason, c.count]),
    REFUSAL_KINDS.map((k) => [k.status, k.reason, 0]),
  );
  for (let i = 0; i < 500; i++) {
    refusals.refused('malformed', 'malformed HTTP request (HPE_INVALID_METHOD): Invalid method encountered', '10.0.0.7');
    now += 100;
  }
  t.is(log.lines.length, 1, '500 refusals within 50 s: one line');
  t.is(log.lines[0]!.msg, 'http: 400 to 10.0.0.7: malformed HTTP request (HPE_INVALID_METHOD): Invalid method encountered');
  t.like(log.lines[0]!.obj, { status: 400, reason: 'malformed', address: '10.0.0.7', unlogged: 0 });
  // Another kind has its own minute.
  refusals.refused('content_encoding', 'spot 4711: Content-Encoding "gzip" is not decoded here', undefined);
  t.is(log.lines.length, 2);
  t.is(log.lines[1]!.msg, 'http: 415 to an unknown address: spot 4711: Content-Encoding "gzip" is not decoded here');
  now = 1_000_000 + 60_000;
  refusals.refused('malformed', 'malformed HTTP request (HPE_INVALID_METHOD): Invalid method encountered', '10.0.0.8');
  t.is(log.lines.length, 3, 'a minute after the first line: the next');
  t.is(log.lines[2]!.msg, 'http: 400 to 10.0.0.8: malformed HTTP request (HPE_INVALID_METHOD): Invalid method encountered (499 more refused 400 since the last such line, not logged)');
  t.like(log.lines[2]!.obj, { unlogged: 499 });
  const counts = Object.fromEntries(refusals.counts().map((c) => [`${c.status} ${c.reason}`, c.count]));
  t.deepEqual(counts, { '400 malformed': 501, '414 target_too_long': 0, '431 head_too_large': 0, '415 content_encoding': 1 });
});
