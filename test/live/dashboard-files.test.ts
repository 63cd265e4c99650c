// The dashboard's files: served by the gateway itself, small, and only from the gateway.
import test from 'ava';
import { loadDashboardFiles, pageWeight } from '../../gateway/src/dashboard/files.js';
import { api, startTestGateway } from '../helpers/gateway.js';

test('the whole dashboard weighs under 150 KB (HTML, CSS, scripts and the config schema)', (t) => {
  const files = loadDashboardFiles();
  t.true(files.has('index.html'));
  const weight = pageWeight(files);
  t.log(`page weight: ${weight} bytes in ${files.size} files`);
  t.true(weight < 150 * 1024, `${weight} bytes`);
});

test('/ serves the page with a policy that allows nothing from elsewhere; files revalidate by ETag', async (t) => {
  const gateway = await startTestGateway(t);
  const page = await fetch(`${gateway.url}/`);
  t.is(page.status, 200);
  t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await page.text();
  t.notRegex(html, /https?:\/\//, 'no external address in the page');
  const etag = page.headers.get('etag')!;
  t.is((await fetch(`${gateway.url}/`, { headers: { 'if-none-match': etag } })).status, 304);

  const schema = await api<Array<{ name: string }>>(gateway.url, '/dashboard/spot-config.json');
  t.is(schema.status, 200);
  t.true(schema.body.some((k) => k.name === 'rfid_power_dbm'));
  const missing = await api<{ reason: string }>(gateway.url, '/dashboard/..%2F..%2Fpackage.json');
  t.is(missing.status, 404);
  const openapi = await api<{ paths: Record<string, unknown> }>(gateway.url, '/api/openapi.json');
  t.truthy(openapi.body.paths['/api/live']);
  t.truthy(openapi.body.paths['/']);
});
