// The overview page: health, spots, buffer, upstreams (with live charts), rejected messages and firmware.
import { sparkline } from './charts.js';
import { firmwareCard } from './firmware.js';
import { ago, api, bytes, card, clock, duration, facts, fill, h, ms, num, pill } from './dom.js';

const REJECTED_SHOWN = 20;

export function overviewPage(history) {
  const root = h('div', { class: 'grid' });
  const spotList = spotsTable();
  const firmware = firmwareCard();
  const parts = {
    health: h('div'),
    buffer: h('div'),
    upstreams: h('div'),
    rejected: h('div'),
  };
  root.append(
    card('Health', 'health-card', parts.health),
    card('Spots', 'spots', spotList),
    card('Buffer', 'buffer', parts.buffer),
    card('Upstreams', 'upstreams', parts.upstreams),
    card('Rejected messages', 'rejected', parts.rejected),
    card('Firmware', 'firmware', firmware),
  );
  let rejectedSeen = null;

  return {
    root,
    liveQuery: '',
    status(snapshot) {
      const { status, health, spots, time } = snapshot;
      fill(parts.health, healthView(health, status));
      spotList.update(spots, time, status.spots.known);
      firmware.update(snapshot.flashJobs ?? []);
      fill(parts.buffer, bufferView(status.buffer, status.disk, history));
      fill(parts.upstreams, upstreamsView(status.upstreams, history, time));
      if (status.buffer.rejected !== rejectedSeen) {
        rejectedSeen = status.buffer.rejected;
        void loadRejected(parts.rejected);
      }
    },
    event() {},
    close() {},
  };
}

function healthView(health, status) {
  const ok = health.status === 'ok';
  return h(
    'div',
    { class: 'health', 'data-status': health.status },
    h('p', { class: 'big' }, ok ? 'All well' : 'Needs a look'),
    ok ? h('p', { class: 'muted' }, 'The store writes, nothing is dropped or refused, every upstream delivers.') : h('ul', {}, health.reasons.map((r) => h('li', {}, r))),
    facts([
      ['spots online', `${status.spots.online} of ${status.spots.known}`],
      ['up', duration(status.gateway.uptimeS * 1000)],
      ['version', status.gateway.version],
    ]),
  );
}

const SPOT_COLUMNS = ['spot', 'state', 'firmware', 'last seen', 'events/s', 'presences'];

/** The spots table, updated in place each second: rows are kept, so a tap on a link is never lost to a redraw. */
function spotsTable() {
  const body = h('tbody');
  const table = h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, SPOT_COLUMNS.map((c) => h('th', {}, c)))), body));
  const empty = h('p', { class: 'muted' }, 'No spot has posted yet. Point a spot\u2019s brain_address at this gateway.');
  const rows = new Map();
  // The live feed carries the first spots by serial (as text) up to a bound; a bigger site says so.
  const more = h('p', { class: 'muted', id: 'spots-more' });
  const root = h('div', {}, empty);
  root.update = (spots, now, known) => {
    if (spots.length > 0 && empty.isConnected) fill(root, table, more);
    more.hidden = known <= spots.length;
    more.textContent = more.hidden ? '' : `The first ${num(spots.length)} of ${num(known)} spots by serial; every spot: GET /api/spots, a page at a time.`;
    const order = spots.slice().sort((a, b) => Number(b.online) - Number(a.online) || Number(a.serial) - Number(b.serial));
    for (const s of order) {
      let row = rows.get(s.serial);
      if (!row) {
        row = h('tr', { dataset: { serial: s.serial } }, h('td', {}, h('a', { href: `#/spots/${s.serial}` }, s.serial)), h('td'), h('td'), h('td'), h('td', { class: 'num' }), h('td', { class: 'num' }));
        rows.set(s.serial, row);
      }
      const cells = row.children;
      row.dataset.online = String(s.online);
      fill(cells[1], pill(s.online ? 'online' : 'offline', s.online ? 'ok' : 'off'));
      cells[2].textContent = s.firmwareVersion ?? '\u2013';
      cells[3].textContent = ago(s.lastSeen, now);
      cells[3].title = new Date(s.lastSeen).toLocaleString();
      cells[4].textContent = num(s.eventsPerSecond);
      cells[5].textContent = s.presences === null ? '\u2013' : num(s.presences);
    }
    const wanted = order.map((s) => rows.get(s.serial));
    if (wanted.some((row, i) => body.children[i] !== row) || body.children.length !== wanted.length) fill(body, wanted);
  };
  return root;
}

function bufferView(buffer, disk, history) {
  const used = buffer.maxBytes > 0 ? buffer.bytes / buffer.maxBytes : 0;
  return h(
    'div',
    {},
    facts([
      ['backlog', num(history.get('backlog').at(-1)), { id: 'backlog' }],
      ['oldest unforwarded', ms(buffer.oldestUnforwardedAgeMs)],
      ['events held', num(buffer.events)],
      ['on disk', `${bytes(buffer.bytes)} of ${bytes(buffer.maxBytes)} (${num(used * 100)} %)`],
      ['dropped', num(buffer.dropped), buffer.dropped > 0 ? { class: 'bad' } : undefined],
      ['duplicates', num(buffer.duplicates)],
      ['rejected', num(buffer.rejected)],
      ['fsync p99', ms(buffer.walFsync.p99Ms)],
      ['last error', buffer.lastError ?? 'none', buffer.lastError ? { class: 'bad' } : undefined],
      ['data disk', diskText(disk), disk.warning || disk.error ? { class: 'bad', id: 'disk' } : { id: 'disk' }],
    ]),
    h('meter', { min: 0, max: 1, high: 0.9, value: used, title: 'disk use of the buffer against its cap' }),
    h('div', { class: 'charts' }, sparkline('events in /s', history.get('ingestRate')), sparkline('backlog', history.get('backlog'))),
  );
}

function diskText(disk) {
  if (disk.error) return `cannot be measured (${disk.error})`;
  return `${num(disk.usedPercent)} % used, ${bytes(disk.availableBytes)} free${disk.warning ? ` (above ${disk.warnPercent} %)` : ''}`;
}

function upstreamsView(upstreams, history, now) {
  const names = Object.keys(upstreams);
  if (names.length === 0) return h('p', { class: 'muted' }, 'No upstream configured: events are kept here and shown by the API.');
  return names.map((name) => {
    const u = upstreams[name];
    return h(
      'div',
      { class: 'upstream', dataset: { upstream: name } },
      h('h3', {}, name, ' ', pill(u.state, u.state === 'connected' ? 'ok' : 'bad')),
      facts([
        ['lag', num(u.lag)],
        ['rate', `${num(u.rate)} /s`],
        ['drops', num(u.drops), u.drops > 0 ? { class: 'bad' } : undefined],
        ['refused', num(u.refused)],
        ['in flight', num(u.inFlight)],
        ['reconnects', num(u.reconnects)],
        ['quarantined', num(u.quarantined), u.quarantined > 0 ? { class: 'bad' } : undefined],
        ['delivery mean / p99', `${ms(u.delivery.meanMs)} / ${ms(u.delivery.p99Ms)}`],
        ['last error', u.lastError ?? 'none'],
        u.noAckSinceMs !== null && u.noAckSinceMs !== undefined ? ['nothing acknowledged for', duration(now - u.noAckSinceMs), { class: 'bad' }] : null,
        u.poisonSuspect ? ['suspect event', `${u.poisonSuspect.eventId} of spot ${u.poisonSuspect.spot} (${u.poisonSuspect.strikes} drops)`, { class: 'bad' }] : null,
      ]),
      h(
        'div',
        { class: 'charts' },
        sparkline('lag', history.get(`${name}.lag`)),
        sparkline('rate /s', history.get(`${name}.rate`)),
        sparkline('delivery p99', history.get(`${name}.p99`), ' ms'),
      ),
    );
  });
}

async function loadRejected(target) {
  const { status, body } = await api(`/api/rejected?limit=${REJECTED_SHOWN}`);
  if (status !== 200) {
    fill(target, h('p', { class: 'bad' }, `GET /api/rejected answered ${status}`));
    return;
  }
  if (body.length === 0) {
    fill(target, h('p', { class: 'muted' }, 'None: every message so far was well formed.'));
    return;
  }
  fill(target,
    h('p', { class: 'muted' }, `The newest ${body.length}, with the bytes as received.`),
    body.map((r) =>
      h(
        'details',
        { class: 'rejected' },
        h('summary', {}, h('span', { class: 'muted' }, `${clock(r.time)} spot ${r.spot} `), r.reason),
        h('pre', {}, r.rawText),
        h('pre', { class: 'hex' }, hexDump(r.rawBase64)),
      ),
    ),
  );
}

function hexDump(base64) {
  const raw = atob(base64);
  const lines = [];
  for (let i = 0; i < raw.length; i += 16) {
    const row = raw.slice(i, i + 16);
    const hex = [...row].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((c) => (c >= ' ' && c <= '~' ? c : '.')).join('');
    lines.push(`${i.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  return lines.join('\n');
}
