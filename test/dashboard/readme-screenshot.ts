// Makes the README's dashboard screenshot: a gateway with Mosquitto upstream, three host-build spots and a short flood.
// Run by hand: node --import=tsx test/dashboard/readme-screenshot.ts docs/dashboard.png
import { openBrowser } from '../helpers/browser.js';
import { JSON_EVENTS, postChunks, startTestGateway, waitFor } from '../helpers/gateway.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startSpot } from '../firmware/spot-process.js';

const out = process.argv[2] ?? 'docs/dashboard.png';
const cleanups: Array<() => unknown> = [];
const t = { teardown: (fn: () => unknown) => void cleanups.unshift(fn) };
try {
  const broker = await startMosquitto({ t });
  const gateway = await startTestGateway(t, { config: { mqtt: { url: broker.url }, gateway: { id: 'site-1' } } });
  const brain = `127.0.0.1:${gateway.port}`;
  for (const serial of [4711, 4712, 4713]) startSpot(t, { target: 'host', serial, brain, runSeconds: 120 });
  const browser = await openBrowser(t, { width: 1100, height: 900 });
  await browser.page.goto(gateway.url);
  await waitFor(() => browser.page.locator('#spots tr[data-online="true"]').count().then((n) => n === 3), 15000, 'three spots online');
  const started = Date.now();
  await waitFor(() => Date.now() - started > 20000, 30000, 'twenty seconds of charts');
  startSpot(t, { target: 'host', serial: 4720, brain, runSeconds: 4, extraArgs: ['--flood'] });
  await postChunks(gateway.port, 4713, ['["presence","create",{"item_code":"e2801170000002"\n\n'], { headers: JSON_EVENTS });
  await waitFor(() => Date.now() - started > 45000, 60000, 'the flood to show in the charts');
  await browser.page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  for (const fn of cleanups) await fn();
}
