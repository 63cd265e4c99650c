// The dashboard in a real browser (Debian's chromium through playwright-core) against the real gateway and the firmware's host build.
import test from 'ava';
import { openBrowser } from '../helpers/browser.js';
import type { Page } from 'playwright-core';
import { JSON_EVENTS, postChunks, startTestGateway, tempDir, waitFor } from '../helpers/gateway.js';
import { request, seedAuth } from '../auth/http.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startSpot } from '../firmware/spot-process.js';
import { SCENARIO } from '../firmware/spot-scenarios.js';

const ADMIN_PASSWORD = 'dashboard admin 1';

/** A gateway with auth.api on, one admin user and an admin API key for the test's own requests. */
async function gatewayWithLogin(t: Parameters<typeof startTestGateway>[0]) {
  const dataDir = tempDir(t);
  const seeded = await seedAuth(dataDir, { users: [['ann', 'admin', ADMIN_PASSWORD]], keys: [['test', 'admin']] });
  const gateway = await startTestGateway(t, { dataDir, config: { auth: { api: 'on' } } });
  const key = seeded.keys[0]!.key;
  const api = <T>(path: string) => request<T>(`${gateway.url}${path}`, { headers: { 'x-api-key': key } });
  return { gateway, api };
}

/** The login form as a person fills it in. */
async function logIn(page: Page): Promise<void> {
  await page.waitForSelector('#login');
  await page.fill('#login-user', 'ann');
  await page.fill('#login-password', ADMIN_PASSWORD);
  await page.click('#login-send');
  await page.waitForSelector('#who >> text=ann (admin)');
}

test.serial('the dashboard asks for a login, then loads with no console errors, shows the gateway healthy and the spot-auth banner, and fits a phone screen', async (t) => {
  const { gateway } = await gatewayWithLogin(t);
  const browser = await openBrowser(t);
  const { page } = browser;
  await page.goto(gateway.url);
  await logIn(page);
  t.regex((await page.textContent('#banner')) ?? '', /spot posts are not authenticated \(auth.spots: off\)/);
  await page.waitForSelector('#health[data-status="ok"]');
  await page.waitForSelector('#link[data-state="live"]');
  t.is(await page.textContent('#health-card .big'), 'All well');
  t.regex((await page.textContent('#spots')) ?? '', /No spot has posted yet/);
  await browser.screenshot('empty-desktop');

  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.true(overflow <= 0, `the page is ${overflow} px wider than a phone's screen`);
  await browser.screenshot('empty-phone');
  t.deepEqual(browser.problems(), []);
});

test.serial('a data disk above buffer.disk_warn_percent shows in red in the buffer card and as a health reason', async (t) => {
  // The test cannot fill the disk: a threshold below any real filesystem's fill does the same.
  const gateway = await startTestGateway(t, { config: { buffer: { disk_warn_percent: 0.001 } } });
  const browser = await openBrowser(t);
  const { page } = browser;
  await page.goto(gateway.url);
  await page.waitForSelector('#health[data-status="degraded"]');
  await page.waitForSelector('#buffer dd#disk.bad');
  t.regex((await page.textContent('#buffer dd#disk')) ?? '', /^[\d.]+ % used, .+ free \(above 0\.001 %\)$/);
  t.regex((await page.textContent('#health-card')) ?? '', /data filesystem of .* % full \(above buffer\.disk_warn_percent 0\.001 %\)/);
  t.deepEqual(browser.problems(), []);
});

test.serial('a spot (the firmware host build) posting events appears live: in the spots table, then on its page with its events', async (t) => {
  const gateway = await startTestGateway(t);
  const browser = await openBrowser(t);
  const { page } = browser;
  await page.goto(gateway.url);
  await page.waitForSelector('#link[data-state="live"]');

  const serial = 6201;
  startSpot(t, { target: 'host', serial, brain: `127.0.0.1:${gateway.port}`, scenario: SCENARIO, runSeconds: 60 });
  // The page is not reloaded: the row comes through the live feed.
  const row = `#spots tr[data-serial="${serial}"][data-online="true"]`;
  await page.waitForSelector(row);
  t.regex((await page.textContent(row)) ?? '', /online/);
  t.regex((await page.textContent(`${row} td:nth-child(3)`)) ?? '', /^\d+\.\d+/, 'the firmware version');
  await browser.screenshot('spot-online');

  await page.click(`${row} a`);
  await page.waitForSelector(`.spot[data-serial="${serial}"]`);
  // spot create and config create came before the page opened (recent events), the presences come live.
  await page.waitForSelector('#events tr[data-resource="spot"][data-action="create"]');
  await page.waitForSelector('#events tr[data-resource="presence"][data-action="create"]');
  await page.waitForSelector('#config tr[data-key="rfid_power_dbm"]');
  t.regex((await page.textContent('#firmware-note')) ?? '', /Over the spot\u2019s serial port/);
  // The scenario's later presences (its deletes) arrive while the page is open, on top of the list.
  const newest = Number(await page.getAttribute('#events tbody tr', 'data-id'));
  await page.waitForFunction((id) => Number(document.querySelector<HTMLElement>('#events tbody tr')?.dataset.id) > id, newest);
  await page.waitForSelector('#events tr[data-resource="presence"][data-action="delete"]');
  await browser.screenshot('spot-page');
  t.deepEqual(browser.problems(), []);
});

test.serial('the overview shows the buffer and the MQTT upstream with live charts, and a rejected message with its reason and raw bytes', async (t) => {
  const broker = await startMosquitto({ t });
  const gateway = await startTestGateway(t, { config: { mqtt: { url: broker.url } } });
  for (const serial of [6301, 6302]) startSpot(t, { target: 'host', serial, brain: `127.0.0.1:${gateway.port}`, scenario: SCENARIO, runSeconds: 60 });
  const browser = await openBrowser(t);
  const { page } = browser;
  await page.goto(gateway.url);

  await page.waitForSelector('.upstream[data-upstream="mqtt"] .pill[data-status="ok"]');
  await page.waitForSelector('#spots tr[data-serial="6301"][data-online="true"]');
  await page.waitForSelector('#spots tr[data-serial="6302"][data-online="true"]');
  // A chart draws once it has two samples with a value.
  await page.waitForSelector('.upstream[data-upstream="mqtt"] .spark path[d*="L"]', { state: 'attached' });
  await page.waitForSelector('#buffer .spark path[d*="L"]', { state: 'attached' });
  t.regex((await page.textContent('.upstream[data-upstream="mqtt"]')) ?? '', /delivery mean \/ p99/);

  // A malformed message shows up without a reload, with the gateway's reason and its bytes.
  const post = await postChunks(gateway.port, 6303, ['["presence","create",{"item_code":\n\n'], { headers: JSON_EVENTS });
  t.is(post.status, 200);
  const rejected = '#rejected details.rejected';
  await page.waitForSelector(rejected);
  await page.click(`${rejected} summary`);
  t.regex((await page.textContent(`${rejected} pre:not(.hex)`)) ?? '', /\["presence","create",\{"item_code":/);
  t.regex((await page.textContent(`${rejected} pre.hex`)) ?? '', /^0000 {2}5b 22 70 72/);
  await browser.screenshot('overview');
  t.deepEqual(browser.problems(), []);
});

test.serial('a config update sent from the form by a logged-in admin (with its CSRF token) reaches the spot and comes back as its config update event', async (t) => {
  const { gateway, api } = await gatewayWithLogin(t);
  const serial = 6202;
  startSpot(t, { target: 'host', serial, brain: `127.0.0.1:${gateway.port}`, scenario: SCENARIO, runSeconds: 60 });
  await waitFor(async () => (await api(`/api/spots/${serial}`)).status === 200, 15000, 'the spot to post');

  const browser = await openBrowser(t, { width: 390, height: 844 });
  const { page } = browser;
  await page.goto(`${gateway.url}/#/spots/${serial}`);
  await logIn(page);
  await page.waitForSelector('#link[data-state="live"]');
  await page.waitForSelector('#config-key option[value="rfid_power_dbm"]', { state: 'attached' });

  // Checked against the config schema in the page: an out-of-range value is not sent.
  await page.selectOption('#config-key', 'rfid_power_dbm');
  await page.fill('#cfg-rfid_power_dbm', '99');
  await page.click('#config-send');
  await page.waitForSelector('#config-result[data-state="bad"]');
  t.regex((await page.textContent('#config-result')) ?? '', /rfid_power_dbm: 99 is outside 0 to 33/);
  t.deepEqual((await api<unknown[]>(`/api/spots/${serial}/commands`)).body, []);

  await page.fill('#cfg-rfid_power_dbm', '21');
  await page.click('#config-send');
  await page.waitForSelector('#config-result[data-state="ok"]');
  const update = '#events tr[data-resource="config"][data-action="update"]';
  await page.waitForSelector(update, { timeout: 20000 });
  t.regex((await page.textContent(update)) ?? '', /"rfid_power_dbm":21/);
  await page.waitForSelector('#config tr[data-key="rfid_power_dbm"] >> text=21');
  await browser.screenshot('config-update-phone');

  // The gateway saw the same: the command delivered and the spot's config update stored.
  const commands = await api<Array<{ state: string; data: unknown }>>(`/api/spots/${serial}/commands`);
  t.is(commands.body[0]?.state, 'delivered');
  t.deepEqual(commands.body[0]?.data, { rfid_power_dbm: 21 });
  const events = await api<Array<{ resource: string; action: string; data: Record<string, unknown> }>>(`/api/events?spot=${serial}&limit=10000`);
  const stored = events.body.find((e) => e.resource === 'config' && e.action === 'update');
  t.is(stored?.data.rfid_power_dbm, 21);
  t.deepEqual(browser.problems(), []);
});
