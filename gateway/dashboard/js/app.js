// The dashboard: one page, two views (#/ the overview, #/spots/<serial> a spot), fed by the live feed.
import { loadSession, loginForm, logout, needsLogin } from './auth.js';
import { History } from './charts.js';
import { h } from './dom.js';
import { openLive } from './live.js';
import { overviewPage } from './overview.js';
import { spotPage } from './spot-page.js';

const history = new History();
const view = document.getElementById('view');
const healthBadge = document.getElementById('health');
const linkBadge = document.getElementById('link');
const gatewayName = document.getElementById('gateway');

let page = null;
let closeLive = null;
let previous = null;

/** Figures charted over time, taken from every snapshot whatever the view. */
function record(snapshot) {
  const { status, time } = snapshot;
  const stored = status.ingest.eventsStored;
  const rate = previous && time > previous.time ? ((stored - previous.stored) * 1000) / (time - previous.time) : null;
  previous = { time, stored };
  history.add('ingestRate', rate);
  const upstreams = Object.entries(status.upstreams);
  history.add('backlog', upstreams.length > 0 ? Math.max(...upstreams.map(([, u]) => u.lag ?? 0)) : null);
  for (const [name, u] of upstreams) {
    history.add(`${name}.lag`, u.lag);
    history.add(`${name}.rate`, u.rate);
    history.add(`${name}.p99`, u.delivery.p99Ms);
  }
}

function header(snapshot) {
  const { health, status } = snapshot;
  healthBadge.dataset.status = health.status;
  healthBadge.textContent = health.status;
  healthBadge.title = health.reasons.join('\n') || 'nothing needs a look';
  gatewayName.textContent = `${status.gateway.id} \u00b7 ${status.gateway.version}`;
  document.title = `${health.status === 'ok' ? '' : '\u26a0 '}${status.gateway.id} \u00b7 spot-gateway`;
}

function route() {
  closeLive?.();
  page?.close();
  const spot = /^#\/spots\/(\d+)$/.exec(location.hash);
  page = spot ? spotPage(spot[1]) : overviewPage(history);
  view.replaceChildren(page.root);
  window.scrollTo(0, 0);
  linkBadge.dataset.state = 'connecting';
  linkBadge.textContent = 'connecting';
  const current = page;
  closeLive = openLive(page.liveQuery, {
    onStatus: (snapshot) => {
      record(snapshot);
      header(snapshot);
      current.status(snapshot);
    },
    onEvent: (e) => current.event(e),
    onLink: (state) => {
      linkBadge.dataset.state = state;
      linkBadge.textContent = state;
      // The feed refused (a session ended, a user removed): back to the login form if that is why.
      if (state === 'closed') void relogin();
    },
  });
}

/** What the gateway's configuration leaves open (no spot authentication, an open API, no user yet), always in sight. */
function banner(notes) {
  const el = document.getElementById('banner');
  el.hidden = notes.length === 0;
  el.replaceChildren(...notes.map((note) => h('p', {}, note)));
}

function loggedIn(session) {
  document.getElementById('who').textContent = session.user ? `${session.user} (${session.role})` : '';
  const button = document.getElementById('logout');
  button.hidden = !session.user;
  button.onclick = logout;
  window.addEventListener('hashchange', route);
  route();
}

async function relogin() {
  const session = await loadSession();
  banner(session.auth.open);
  if (!needsLogin(session)) return;
  closeLive?.();
  page?.close();
  page = null;
  window.removeEventListener('hashchange', route);
  view.replaceChildren(loginForm(loggedIn));
}

async function start() {
  const session = await loadSession();
  banner(session.auth.open);
  if (!needsLogin(session)) return loggedIn(session);
  linkBadge.dataset.state = 'closed';
  linkBadge.textContent = 'logged out';
  view.replaceChildren(loginForm(loggedIn));
}

void start();
