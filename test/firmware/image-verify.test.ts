// `verifyImage` accepts exactly the good images and names the check a bad one fails: every single-bit
// flip, a wrong key, a wrong target, a cut file, a moved TLV. Images come from the hand builder (image-vectors.ts).
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import test from 'ava';
import type { ImageFailureReason } from '../../gateway/src/firmware/image-failures.js';
import { signImage } from '../../gateway/src/firmware/image-sign.js';
import { verifyImage, type VerifyRequest } from '../../gateway/src/firmware/image-verify.js';
import { FIXED_SEED, flipBit, handHeader, handSignedImage, handSpki, handTlvArea, keyFromSeed } from './image-vectors.js';

const key = keyFromSeed(FIXED_SEED);
const otherKey = generateKeyPairSync('ed25519').privateKey;
const body = Buffer.from(Array.from({ length: 96 }, (_, i) => (i * 13 + 1) & 0xff));
const request: VerifyRequest = { publicKey: key, expectedTarget: 'mps2-an385' };
const good = handSignedImage({ body, key, target: 'mps2-an385' });

function outcome(bytes: Uint8Array, req: VerifyRequest = request): 'ok' | ImageFailureReason {
  const result = verifyImage(bytes, req);
  return result.ok ? 'ok' : result.reason;
}

/** An image with chosen protected records and an unprotected area made from its digest. */
function imageWith(prot: Array<[number, Uint8Array | number[]]>, unprot: (hash: Buffer) => Array<[number, Uint8Array | number[]]>): Buffer {
  const protArea = prot.length ? handTlvArea(0x6908, prot) : [];
  const header = handHeader({ hdrSize: 0x200, protectTlvSize: protArea.length, imgSize: body.length, major: 2, minor: 0, revision: 0, build: 0 });
  const hashed = Buffer.from([...header, ...new Array<number>(0x200 - 32).fill(0xff), ...body, ...protArea]);
  const hash = createHash('sha256').update(hashed).digest();
  return Buffer.concat([hashed, Buffer.from(handTlvArea(0x6907, unprot(hash)))]);
}

const keyHashOf = (k = key): Buffer => createHash('sha256').update(handSpki(k)).digest();
const target = (name: string): [number, Buffer] => [0x00b0, Buffer.from(name, 'utf8')];

test('a hand-built image signed with the key verifies, with its target and hash', (t) => {
  const result = verifyImage(good.bytes, request);
  if (!result.ok) return t.fail(`${result.reason}: ${result.detail}`);
  t.is(result.target, 'mps2-an385');
  t.deepEqual(result.hash, good.hash);
});

test('sign then verify: what the builder signs, the verifier accepts', (t) => {
  const signed = signImage({ input: body, version: { major: 3, minor: 1, revision: 4, build: 1 }, privateKey: key, target: 'mps2-an385', padHeader: true });
  if (!signed.ok) return t.fail(signed.reason);
  t.is(outcome(signed.image), 'ok');
});

test('one flipped bit in the header, body, protected TLV, hash or signature fails the right check', (t) => {
  t.is(outcome(flipBit(good.bytes, 0)), 'bad-magic', 'magic');
  t.is(outcome(flipBit(good.bytes, 20)), 'hash-mismatch', 'version major');
  t.is(outcome(flipBit(good.bytes, 4)), 'hash-mismatch', 'load address');
  t.is(outcome(flipBit(good.bytes, 100)), 'hash-mismatch', 'header padding');
  t.is(outcome(flipBit(good.bytes, good.bodyAt + 5)), 'hash-mismatch', 'body');
  t.is(outcome(flipBit(good.bytes, good.protectedAt + 8)), 'hash-mismatch', 'target value in the protected area');
  t.is(outcome(flipBit(good.bytes, good.hashAt + 31, 7)), 'hash-mismatch', 'recorded hash');
  t.is(outcome(flipBit(good.bytes, good.keyHashAt)), 'unknown-key', 'key hash');
  t.is(outcome(flipBit(good.bytes, good.signatureAt + 10)), 'bad-signature', 'signature');
  t.is(outcome(flipBit(good.bytes, good.unprotectedAt)), 'tlv-damaged', 'unprotected info magic');
});

test('no single-bit flip anywhere in a signed image verifies', (t) => {
  let accepted = 0;
  for (let offset = 0; offset < good.bytes.length; offset += 1) {
    for (let bit = 0; bit < 8; bit += 1) {
      if (verifyImage(flipBit(good.bytes, offset, bit), request).ok) accepted += 1;
    }
  }
  t.is(accepted, 0, `${good.bytes.length * 8} flips tried`);
});

test('an image signed with another key is an unknown key, naming both key hashes', (t) => {
  const result = verifyImage(good.bytes, { ...request, publicKey: otherKey });
  t.false(result.ok);
  if (result.ok) return;
  t.is(result.reason, 'unknown-key');
  t.true(result.detail.includes(keyHashOf(key).toString('hex')), result.detail);
  t.true(result.detail.includes(keyHashOf(otherKey).toString('hex')), result.detail);
});

test('a signature made by another key under our key hash is a bad signature', (t) => {
  const forged = imageWith([target('mps2-an385')], (hash) => [
    [0x10, hash],
    [0x01, keyHashOf(key)],
    [0x24, sign(null, hash, otherKey)],
  ]);
  t.is(outcome(forged), 'bad-signature');
});

test('an image for another target is refused; one without a target only when a target is required', (t) => {
  const other = handSignedImage({ body, key, target: 'nrf52840dk' });
  const result = verifyImage(other.bytes, request);
  t.false(result.ok);
  if (!result.ok) {
    t.is(result.reason, 'wrong-target');
    t.regex(result.detail, /"nrf52840dk", not "mps2-an385"/);
  }
  t.is(outcome(other.bytes, { ...request, expectedTarget: 'nrf52840dk' }), 'ok');
  const untargeted = handSignedImage({ body, key, target: null });
  t.is(outcome(untargeted.bytes), 'ok', 'plain imgtool sign: no protected area');
  t.is(outcome(untargeted.bytes, { ...request, requireTarget: true }), 'no-target');
});

test('a target TLV in the unprotected area is refused, as MCUboot refuses unprotected TLVs it only takes protected', (t) => {
  const moved = imageWith([], (hash) => [
    [0x10, hash],
    [0x01, keyHashOf()],
    [0x24, sign(null, hash, key)],
    target('mps2-an385'),
  ]);
  t.is(outcome(moved), 'unprotected-tlv');
});

test('an image with a hash but no signature is unsigned; one without a hash has no hash', (t) => {
  t.is(outcome(imageWith([target('mps2-an385')], (hash) => [[0x10, hash]])), 'unsigned');
  t.is(outcome(imageWith([target('mps2-an385')], () => [[0x01, keyHashOf()]])), 'no-hash');
  t.is(outcome(imageWith([], (hash) => [[0x10, hash.subarray(0, 31)]])), 'no-hash', 'a 31-byte hash');
});

test('an imgtool --pure image (SIG_PURE, signature over the image, no SHA256 TLV) is refused for having no hash', (t) => {
  const pure = imageWith([target('mps2-an385')], () => [
    [0x25, [1]],
    [0x01, keyHashOf()],
    [0x24, new Uint8Array(64)],
  ]);
  t.is(outcome(pure), 'no-hash');
});

test('a file cut anywhere is refused', (t) => {
  const reasons = new Set<string>();
  for (let length = 0; length < good.bytes.length; length += 1) {
    const r = outcome(good.bytes.subarray(0, length));
    t.not(r, 'ok', `cut at ${length}`);
    reasons.add(r);
  }
  t.true(reasons.has('truncated'));
});

test('other protected TLVs (security counter), a full public key instead of its hash, and imgtool --pad bytes are accepted', (t) => {
  const withCounter = imageWith([[0x50, [1, 0, 0, 0]], target('mps2-an385')], (hash) => [
    [0x10, hash],
    [0x02, handSpki(key)],
    [0x24, sign(null, hash, key)],
  ]);
  t.is(outcome(withCounter), 'ok');
  const padded = Buffer.concat([good.bytes, Buffer.alloc(64, 0xff)]);
  t.is(outcome(padded), 'ok');
});

test('a second signature by another key does not hide ours', (t) => {
  const twoSigners = imageWith([target('mps2-an385')], (hash) => [
    [0x10, hash],
    [0x01, keyHashOf(otherKey)],
    [0x24, sign(null, hash, otherKey)],
    [0x01, keyHashOf(key)],
    [0x24, sign(null, hash, key)],
  ]);
  t.is(outcome(twoSigners), 'ok');
});
