import test from 'ava';
import { normalizePrefix, Topics } from '../../gateway/src/upstream/topics.js';

test('an empty prefix gives topics without a leading slash', (t) => {
  const topics = new Topics('');
  t.is(topics.eventJson('4711', 'presence', 'create'), 'from/4711/json/presence/create');
  t.is(topics.eventPb('4711'), 'from/4711/pb');
  t.is(topics.spotState('4711', 'connected'), 'spots/4711/connected');
  t.is(topics.gatewayState('gw1'), 'gateways/gw1/state');
  t.deepEqual(topics.commandFilters(), ['to/+/json/+/+', 'to/+/pb']);
});

test('a prefix goes before every topic, with or without its trailing slash', (t) => {
  for (const prefix of ['site1', 'site1/']) {
    const topics = new Topics(prefix);
    t.is(topics.eventJson('203', 'config', 'update'), 'site1/from/203/json/config/update');
    t.is(topics.spotState('203', 'disconnected'), 'site1/spots/203/disconnected');
    t.deepEqual(topics.commandFilters(), ['site1/to/+/json/+/+', 'site1/to/+/pb']);
  }
  t.is(new Topics('a/b').eventPb('1'), 'a/b/from/1/pb');
});

test('a prefix with wildcards or empty levels is refused with the reason', (t) => {
  for (const bad of ['site/+', '#', 'a//b', '/a']) {
    const err = t.throws(() => normalizePrefix(bad));
    t.regex(err.message, /prefix/);
  }
});

test('command topics parse strictly', (t) => {
  const topics = new Topics('site1');
  t.deepEqual(topics.parseCommand('site1/to/4711/json/config/update'), {
    ok: true,
    value: { spot: '4711', encoding: 'json', resource: 'config', action: 'update' },
  });
  t.deepEqual(topics.parseCommand('site1/to/4711/pb'), { ok: true, value: { spot: '4711', encoding: 'pb' } });
  const bad: Array<[string, RegExp]> = [
    ['to/4711/json/config/update', /not under the prefix/],
    ['site1/to/abc/json/config/update', /serial "abc" is not a number/],
    ['site1/to/4711/xml/config/update', /neither json nor pb/],
    ['site1/to/4711/json/config', /expected to\/<serial>\/json/],
    ['site1/to/4711/json/config/update/extra', /expected to\/<serial>\/json/],
    ['site1/to/4711/pb/extra', /nothing may follow "pb"/],
    ['site1/to/4711/json/Config/update', /must match/],
    ['site1/from/4711/pb', /is not to\//],
    ['site1/to', /is not to\//],
  ];
  for (const [topic, reason] of bad) {
    const parsed = topics.parseCommand(topic);
    t.false(parsed.ok, topic);
    if (!parsed.ok) t.regex(parsed.reason, reason, topic);
  }
});

test('checked event topics: built once per spot, resource and action; levels that cannot be topic levels give null', (t) => {
  const topics = new Topics('site');
  t.is(topics.eventJsonChecked('4711', 'presence', 'create'), 'site/from/4711/json/presence/create');
  t.is(topics.eventJsonChecked('4711', 'presence', 'create'), 'site/from/4711/json/presence/create', 'again, from the cache');
  t.is(topics.eventJsonChecked('4711', 'hit', 'create'), 'site/from/4711/json/hit/create');
  const refused = [['47/11', 'hit', 'create'], ['4711', 'h+t', 'create'], ['4711', 'hit', ''], ['4711', 'hit', 'a#'], ['4711', 'h\u0001t', 'create'], ['4711', 'hit', 'c\u{10ffff}'], ['4711', 'x'.repeat(257), 'create']];
  for (const [serial, resource, action] of refused) {
    t.is(topics.eventJsonChecked(serial!, resource!, action!), null, `${serial} ${resource} ${action}`);
  }
  // Arbitrary names from a spot are still answered right past the cache's bound.
  for (let i = 0; i < 100; i++) t.is(topics.eventJsonChecked('4711', `r${i}`, `a${i}`), `site/from/4711/json/r${i}/a${i}`);
  t.is(topics.eventJsonChecked('4711', 'r99', 'a/'), null);
});
