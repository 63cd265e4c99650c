// The overview's Firmware card in Debian's chromium against the real gateway: the stored image, a
// flash job running (held mid-upload by the device end of a socat pty pair) with its progress, then
// the job finished and confirmed.
import test from 'ava';
import { openBrowser } from '../helpers/browser.js';
import { GatedPort } from '../helpers/gated-port.js';
import { api, startTestGateway, tempDir } from '../helpers/gateway.js';
import { ptyPair } from '../helpers/pty-pair.js';
import { freshFlash, SmpServerStandIn } from '../helpers/smp-server.js';
import { GOOD, imageHash, uploadImage, writeTrustedKey } from '../flash/images.js';
import { signedImage } from '../smp/images.js';

test('the Firmware card lists the stored image, a running flash job with its progress, then the job confirmed', async (t) => {
  const pair = await ptyPair(t);
  const device = new GatedPort(pair.device);
  const server = new SmpServerStandIn(device, freshFlash(signedImage('1.0.0', 3000)));
  const gateway = await startTestGateway(t, { config: { firmware: { trusted_keys: writeTrustedKey(tempDir(t)), ports: '/dev/pts/*' } } });
  const hash = imageHash(GOOD);
  t.is((await uploadImage(gateway.url, GOOD)).status, 201);
  const browser = await openBrowser(t);
  const { page } = browser;
  await page.goto(gateway.url);
  await page.waitForSelector(`#firmware tr[data-image="${hash}"]`);
  t.regex((await page.textContent(`#firmware tr[data-image="${hash}"]`)) ?? '', new RegExp(`^1\\.1\\.0mps2-an385[\\d.]+ KiB${hash.slice(0, 12)}good$`));
  t.regex((await page.textContent('#firmware')) ?? '', /No flash job running\./);

  device.holdWhen = () => (server.flash.upload?.off ?? 0) >= 8000;
  const started = await api<{ id: string }>(gateway.url, '/api/flash', { body: { port: pair.gatewayPath, image: hash, timeoutMs: 60000 } });
  t.is(started.status, 202);
  const row = `#firmware tr[data-job="${started.body.id}"]`;
  await page.waitForFunction((selector) => /upload.* of .*%/.test(document.querySelector(selector)?.textContent ?? ''), row);
  await browser.screenshot('firmware-running');
  device.release();
  await page.waitForFunction((selector) => /confirmed/.test(document.querySelector(selector)?.textContent ?? ''), row);
  await browser.screenshot('firmware-done');
  t.deepEqual(browser.problems(), []);
});
