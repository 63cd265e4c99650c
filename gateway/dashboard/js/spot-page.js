// One spot: its figures, its recent events live, its config as last reported, and the command forms.
import { configForm } from './config-form.js';
import { ago, api, card, clock, facts, fill, h, num, pill, stamp } from './dom.js';

const EVENTS_SHOWN = 100;
const COMMANDS_SHOWN = 10;

export function spotPage(serial) {
  const summary = h('div');
  const events = h('tbody');
  const config = h('div');
  const commands = h('div');
  let spot = null;
  let lastSnapshot = null;

  const root = h(
    'div',
    { class: 'grid spot', dataset: { serial } },
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '\u2190 all spots')),
    card(`Spot ${serial}`, 'spot-summary', summary),
    card(
      'Recent events, live',
      'events',
      h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, ['id', 'received', 'event', 'data'].map((c) => h('th', {}, c)))), events)),
    ),
    card('Send a config update', 'config-update', configForm(serial, { config: () => spot?.config ?? null, sent: () => void loadCommands() })),
    card('Config as last reported', 'config', config),
    card('Commands', 'commands', commands),
    card(
      'Firmware update',
      'firmware-update',
      h(
        'p',
        { class: 'muted', id: 'firmware-note' },
        'Over the spot\u2019s serial port, not over the network: store a signed image (POST /api/images) and start a flash job on the port (POST /api/flash). The overview\u2019s Firmware card shows the images and the jobs.',
      ),
    ),
  );

  async function loadSpot() {
    const { status, body } = await api(`/api/spots/${serial}`);
    if (status === 404) {
      fill(summary, h('p', { class: 'muted' }, `Spot ${serial} has not posted yet; this page fills in when it does.`));
      return;
    }
    if (status !== 200) {
      fill(summary, h('p', { class: 'bad' }, `GET /api/spots/${serial} answered ${status}: ${body.reason ?? ''}`));
      return;
    }
    spot = body;
    renderSummary();
    renderConfig();
  }

  async function loadCommands() {
    const { status, body } = await api(`/api/spots/${serial}/commands?limit=${COMMANDS_SHOWN}`);
    if (status !== 200) return;
    if (body.length === 0) {
      fill(commands, h('p', { class: 'muted' }, 'None sent yet.'));
      return;
    }
    fill(commands,
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ['id', 'command', 'state', 'queued', 'delivered'].map((c) => h('th', {}, c)))),
          h(
            'tbody',
            {},
            body.map((c) =>
              h(
                'tr',
                { dataset: { command: String(c.id), state: c.state } },
                h('td', {}, String(c.id)),
                h('td', { class: 'code' }, `${c.resource} ${c.action} ${JSON.stringify(c.data)}`),
                h('td', {}, pill(c.state, c.state === 'delivered' ? 'ok' : c.state === 'queued' ? 'wait' : 'bad')),
                h('td', {}, clock(c.timeQueued)),
                h('td', {}, clock(c.timeDelivered)),
              ),
            ),
          ),
        ),
      ),
    );
  }

  function renderSummary() {
    if (!spot) return;
    const live = lastSnapshot?.spots.find((s) => s.serial === serial);
    const now = lastSnapshot?.time ?? Date.now();
    const online = live?.online ?? spot.online;
    fill(summary,
      facts([
        ['state', pill(online ? 'online' : 'offline', online ? 'ok' : 'off'), { id: 'spot-state' }],
        ['firmware', live?.firmwareVersion ?? spot.firmwareVersion ?? '–'],
        ['last seen', ago(live?.lastSeen ?? spot.lastSeen, now)],
        ['first seen', stamp(spot.firstSeen)],
        ['events/s', num(live?.eventsPerSecond ?? 0)],
        ['presences now', live?.presences === null || live?.presences === undefined ? '–' : num(live.presences)],
        ['events', num(live?.events ?? spot.events)],
        ['posts', num(spot.posts)],
        ['rejected', num(spot.rejected)],
        ['duplicates', num(spot.duplicates)],
      ]),
    );
  }

  function renderConfig() {
    const reported = spot?.config;
    if (!reported || Object.keys(reported).length === 0) {
      fill(config, h('p', { class: 'muted' }, 'No config reported yet (a spot sends its config create when it connects).'));
      return;
    }
    fill(config,
      h(
        'div',
        { class: 'scroll' },
        h('table', { class: 'kv' }, h('tbody', {}, Object.entries(reported).map(([k, v]) => h('tr', { dataset: { key: k } }, h('th', {}, k), h('td', { class: 'code' }, JSON.stringify(v)))))),
      ),
    );
  }

  function addEvent(e) {
    events.prepend(
      h(
        'tr',
        { dataset: { id: String(e.id), resource: e.resource, action: e.action } },
        h('td', {}, String(e.id)),
        h('td', {}, clock(e.time_received)),
        h('td', {}, `${e.resource} ${e.action}`),
        h('td', { class: 'code' }, JSON.stringify(e.data)),
      ),
    );
    while (events.children.length > EVENTS_SHOWN) events.lastChild.remove();
  }

  void loadCommands();
  let ticks = 0;
  let loading = false;

  return {
    root,
    liveQuery: `spot=${encodeURIComponent(serial)}`,
    status(snapshot) {
      lastSnapshot = snapshot;
      // Asked for only once the spot is known: a spot that never posted is not an error.
      if (!spot && !loading && snapshot.spots.some((s) => s.serial === serial)) {
        loading = true;
        void loadSpot().finally(() => (loading = false));
      } else if (!spot && !loading) fill(summary, h('p', { class: 'muted' }, `Spot ${serial} has not posted yet; this page fills in when it does.`));
      renderSummary();
      if (++ticks % 5 === 0) void loadCommands();
    },
    event(e) {
      addEvent(e);
      if (e.resource === 'config') {
        // The spot reported its config: the page shows it as the gateway now has it.
        void loadSpot();
        void loadCommands();
      }
    },
    close() {},
  };
}
