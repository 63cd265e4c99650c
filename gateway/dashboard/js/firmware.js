// The overview's Firmware card: flash jobs running (from the live feed), the last finished ones and
// the stored images (docs/firmware-store.md). Read only: images and jobs are started through the API.
import { api, bytes, clock, fill, h, num, pill } from './dom.js';

const FINISHED_SHOWN = 5;

function table(columns, rows) {
  return h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c)))), h('tbody', {}, rows)));
}

const short = (hash) => h('code', { title: hash }, hash.slice(0, 12));

function runningView(jobs) {
  if (jobs.length === 0) return h('p', { class: 'muted' }, 'No flash job running.');
  return table(
    ['port', 'image', 'step', 'progress', 'rate'],
    jobs.map((j) =>
      h('tr', { dataset: { job: j.id } }, h('td', {}, j.port), h('td', {}, j.image.version), h('td', {}, j.step), h('td', { class: 'num' }, `${bytes(j.offset)} of ${bytes(j.total)} (${num((j.offset / Math.max(j.total, 1)) * 100)} %)`), h('td', { class: 'num' }, `${bytes(j.bytesPerSecond)}/s`)),
    ),
  );
}

function finishedView(jobs) {
  if (jobs.length === 0) return null;
  return table(
    ['finished', 'port', 'image', 'outcome'],
    jobs.map((j) =>
      h(
        'tr',
        { dataset: { job: j.id } },
        h('td', {}, clock(j.finishedAt)),
        h('td', {}, j.port),
        h('td', {}, j.image.version),
        h('td', { title: j.outcome.detail ?? '' }, j.outcome.ok ? pill(j.outcome.confirmed ? 'confirmed' : j.outcome.booted ? 'on trial' : 'uploaded', 'ok') : pill(`${j.outcome.reason}${j.outcome.exitCode === null ? '' : ` (${j.outcome.exitCode})`}`, 'bad')),
      ),
    ),
  );
}

function imagesView(images) {
  if (images.length === 0) return h('p', { class: 'muted' }, 'No image stored (POST /api/images).');
  return table(
    ['image', 'target', 'size', 'hash', ''],
    images.map((i) =>
      h('tr', { dataset: { image: i.hash } }, h('td', {}, i.version), h('td', {}, i.target ?? '\u2013'), h('td', { class: 'num' }, bytes(i.size)), h('td', {}, short(i.hash)), h('td', { title: i.refused?.detail ?? '' }, i.refused ? pill(i.refused.reason, 'bad') : pill('good', 'ok'))),
    ),
  );
}

export function firmwareCard() {
  const running = h('div');
  const finished = h('div');
  const images = h('div');
  const root = h('div', {}, running, finished, h('h3', {}, 'Stored images'), images);
  let seen = null;
  async function load() {
    const [stored, jobs] = await Promise.all([api('/api/images'), api('/api/flash')]);
    if (Array.isArray(stored.body)) fill(images, imagesView(stored.body));
    if (Array.isArray(jobs.body)) fill(finished, finishedView(jobs.body.filter((j) => j.outcome).slice(0, FINISHED_SHOWN)));
  }
  /** Each status frame: the running jobs; images and finished jobs are read again when that set changes. */
  root.update = (jobs) => {
    fill(running, runningView(jobs));
    const key = jobs.map((j) => j.id).join(',');
    if (key !== seen) {
      seen = key;
      void load();
    }
  };
  return root;
}
