// POST/GET/DELETE /api/images against a real gateway: a good image is kept by its hash and listed;
// unsigned, unknown-key, wrong-target, no-target and altered images are refused with {error, reason}
// before anything is stored; an image changed on disk or no longer trusted is neither served nor flashed.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { api, startTestGateway, tempDir, type Teardown } from '../helpers/gateway.js';
import { GOOD, HASH_MISMATCH, imageHash, NO_TARGET, UNKNOWN_KEY, UNSIGNED, uploadImage, WRONG_TARGET, writeTrustedKey } from './images.js';
import type { DeepPartial, GatewayConfig } from '../../gateway/src/config/index.js';
import { signedImage } from '../smp/images.js';

async function gateway(t: Teardown, firmware: DeepPartial<GatewayConfig['firmware']> = {}, dataDir?: string) {
  const keyDir = tempDir(t);
  const gw = await startTestGateway(t, { dataDir, config: { firmware: { trusted_keys: writeTrustedKey(keyDir), ...firmware } } });
  return gw;
}

const upload = uploadImage;

test('a good image is stored by its hash, listed with version, size and target, served byte for byte and deleted', async (t) => {
  const gw = await gateway(t);
  const hash = imageHash(GOOD);
  const first = await upload(gw.url, GOOD);
  t.is(first.status, 201, JSON.stringify(first.body));
  t.like(first.body, { hash, version: '1.1.0', size: GOOD.length, target: 'mps2-an385', refused: null });
  t.is(first.location, `/api/images/${hash}`);
  t.deepEqual(readdirSync(path.join(gw.dataDir, 'images')), [`${hash}.img`]);
  const again = await upload(gw.url, GOOD);
  t.is(again.status, 200, 'the same image again is kept once');

  const list = await api<Array<{ hash: string; version: string; size: number; target: string }>>(gw.url, '/api/images');
  t.deepEqual(list.body.map((i) => [i.hash, i.version, i.size, i.target]), [[hash, '1.1.0', GOOD.length, 'mps2-an385']]);
  t.like((await api(gw.url, `/api/images/${hash.toUpperCase()}`)).body, { hash });
  const file = await fetch(`${gw.url}/api/images/${hash}/file`);
  t.is(file.status, 200);
  t.true(Buffer.from(await file.arrayBuffer()).equals(GOOD));

  t.deepEqual((await api(gw.url, `/api/images/${hash}`, { method: 'DELETE' })).body, { hash, deleted: true });
  t.deepEqual(readdirSync(path.join(gw.dataDir, 'images')), []);
  for (const p of [`/api/images/${hash}`, `/api/images/${hash}/file`]) {
    const gone = await api<{ error: string; reason: string }>(gw.url, p);
    t.deepEqual([gone.status, gone.body], [404, { error: 'not found', reason: `no stored image ${hash}` }], p);
  }
  t.is((await api(gw.url, `/api/images/${hash}`, { method: 'DELETE' })).status, 404);
});

test('unsigned, unknown-key, wrong-target, no-target and hash-mismatch images are refused with 422 and nothing is stored', async (t) => {
  const gw = await gateway(t);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['unsigned', UNSIGNED, /^unsigned: no ed25519 signature TLV/],
    ['unknown key', UNKNOWN_KEY, /^unknown-key: signed by another key \(key hash [0-9a-f]{64}\); the trusted keys are .*site\.pub\.pem \([0-9a-f]{64}\)$/],
    ['wrong target', WRONG_TARGET, /^wrong-target: the image is for "nrf52840dk", not "mps2-an385"$/],
    ['no target', NO_TARGET, /^no-target: the image names no target; expected "mps2-an385"$/],
    ['hash mismatch', HASH_MISMATCH, /^hash-mismatch: header, body and protected TLVs hash to [0-9a-f]{64}, the image records [0-9a-f]{64}/],
    ['not an image', Buffer.from('hello, this is not firmware at all, but long enough to look at'), /^bad-magic: /],
  ];
  for (const [what, bytes, reason] of cases) {
    const refused = await upload(gw.url, bytes);
    t.is(refused.status, 422, what);
    t.is(refused.body.error, 'unprocessable entity', what);
    t.regex(String(refused.body.reason), reason, what);
  }
  t.deepEqual(readdirSync(path.join(gw.dataDir, 'images')), []);
  t.deepEqual((await api(gw.url, '/api/images')).body, []);
});

test('firmware.require_target false takes an image without a target; a gateway trusting no key takes none', async (t) => {
  const lax = await gateway(t, { require_target: false });
  t.is((await upload(lax.url, NO_TARGET)).status, 201);
  const none = await startTestGateway(t);
  const refused = await upload(none.url, GOOD);
  t.is(refused.status, 422);
  t.regex(String(refused.body.reason), /^unknown-key: .*no key is trusted \(firmware\.trusted_keys is empty\)$/);
  t.like(await upload(none.url, UNSIGNED), { status: 422, body: { reason: 'unsigned: no ed25519 signature TLV (0x24): the image is not signed, or not with ed25519' } });
});

test('bad uploads: another content type, an empty body, a file over firmware.max_image_bytes, a full store, a bad hash', async (t) => {
  const gw = await gateway(t, { max_image_bytes: 8192, max_images: 1 });
  const json = await upload(gw.url, Buffer.from('{"image":"x"}'), 'application/json');
  t.deepEqual([json.status, json.body.error], [415, 'unsupported media type']);
  t.regex(String(json.body.reason), /application\/octet-stream/);
  t.like(await upload(gw.url, Buffer.alloc(0)), { status: 400, body: { error: 'bad request', reason: 'the body is empty: send the signed image file' } });
  t.like(await upload(gw.url, GOOD), { status: 413, body: { error: 'payload too large', reason: 'request body over the 8192 bytes this route takes' } });
  const small = await gateway(t, { max_images: 1 });
  t.is((await upload(small.url, GOOD)).status, 201);
  const full = await upload(small.url, signedImage('1.2.0', 3000));
  t.is(full.status, 409);
  t.regex(String(full.body.reason), /^1 images are stored, the most firmware\.max_images allows: delete one first/);
  for (const [method, p] of [['GET', '/api/images/xyz'], ['GET', '/api/images/xyz/file'], ['DELETE', '/api/images/xyz']] as const) {
    const bad = await api<{ error: string; reason: string }>(gw.url, p, { method });
    t.deepEqual([bad.status, bad.body.reason], [400, 'hash "xyz" is not a SHA-256 in hex (64 characters 0-9 a-f)'], `${method} ${p}`);
  }
});

test('after a restart the stored images are listed again; one altered on disk is listed refused and not served', async (t) => {
  const dataDir = tempDir(t);
  const first = await gateway(t, {}, dataDir);
  const hash = imageHash(GOOD);
  t.is((await upload(first.url, GOOD)).status, 201);
  await first.stop();
  writeFileSync(path.join(dataDir, 'images', `${hash}.img`), HASH_MISMATCH);
  writeFileSync(path.join(dataDir, 'images', `${'ab'.repeat(32)}.img.tmp`), 'a cut write');
  const second = await gateway(t, {}, dataDir);
  const list = await api<Array<{ hash: string; refused: { reason: string } | null }>>(second.url, '/api/images');
  t.is(list.body.length, 1);
  t.is(list.body[0]!.hash, hash);
  t.is(list.body[0]!.refused?.reason, 'hash-mismatch');
  t.deepEqual(readdirSync(path.join(dataDir, 'images')), [`${hash}.img`], 'the temporary file of a cut write is removed');
  const served = await api<{ error: string; reason: string }>(second.url, `/api/images/${hash}/file`);
  t.is(served.status, 422);
  t.regex(served.body.reason, /^hash-mismatch: /);
  // Uploading the good image again replaces the damaged file.
  t.is((await upload(second.url, GOOD)).status, 201);
  t.is((await api<{ refused: unknown }>(second.url, `/api/images/${hash}`)).body.refused, null);
  // A file removed behind the gateway's back is gone from the listing once a read finds it missing.
  rmSync(path.join(dataDir, 'images', `${hash}.img`));
  const gone = await api<{ error: string; reason: string }>(second.url, `/api/images/${hash}/file`);
  t.deepEqual([gone.status, gone.body.reason], [404, `no stored image ${hash}: its file is gone`]);
  t.deepEqual((await api(second.url, '/api/images')).body, []);
});
