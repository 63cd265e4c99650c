// The image layout read and written as MCUboot's design.md and imgtool define it, checked against
// images built by hand from the field offsets (image-vectors.ts), not by the code under test.
import { createHash } from 'node:crypto';
import test from 'ava';
import { decodeHeader, encodeHeader, formatVersion, parseImage, parseVersion } from '../../gateway/src/firmware/image-format.js';
import { signImage } from '../../gateway/src/firmware/image-sign.js';
import { FIXED_SEED, handHeader, handSignedImage, handSpki, keyFromSeed, le16 } from './image-vectors.js';

const key = keyFromSeed(FIXED_SEED);
const body = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff));

test('a header written byte by byte from the spec offsets is read field by field', (t) => {
  const bytes = Buffer.from(handHeader({ loadAddr: 0x12345678, hdrSize: 0x200, protectTlvSize: 0x12, imgSize: 0x0badf00d, flags: 0x10, major: 1, minor: 2, revision: 0x0304, build: 0x05060708 }));
  t.is(bytes.length, 32);
  t.deepEqual(decodeHeader(bytes), {
    magic: 0x96f3b83d,
    loadAddr: 0x12345678,
    hdrSize: 0x200,
    protectTlvSize: 0x12,
    imgSize: 0x0badf00d,
    flags: 0x10,
    version: { major: 1, minor: 2, revision: 0x0304, build: 0x05060708 },
  });
  t.deepEqual([...bytes.subarray(0, 4)], [0x3d, 0xb8, 0xf3, 0x96], 'the magic is little endian on disk');
});

test('the header the builder writes is the hand-written one, byte for byte', (t) => {
  const fields = { hdrSize: 0x200, protectTlvSize: 18, imgSize: 2000, major: 255, minor: 0, revision: 65535, build: 4294967295 };
  const built = encodeHeader({ loadAddr: 0, hdrSize: fields.hdrSize, protectTlvSize: fields.protectTlvSize, imgSize: fields.imgSize, flags: 0, version: { major: 255, minor: 0, revision: 65535, build: 4294967295 } });
  t.deepEqual([...built], handHeader(fields));
});

test('a signed image is byte for byte the one built by hand (ed25519 is deterministic)', (t) => {
  const hand = handSignedImage({ body, key, target: 'mps2-an385' });
  const signed = signImage({ input: body, version: { major: 1, minor: 2, revision: 3, build: 4 }, privateKey: key, target: 'mps2-an385', headerSize: 0x200, padHeader: true });
  if (!signed.ok) return t.fail(signed.reason);
  t.deepEqual(signed.hash, hand.hash);
  t.true(signed.image.equals(hand.bytes), 'same bytes');
});

test('the TLV areas carry their magics and total sizes including the 4-byte info header', (t) => {
  const signed = signImage({ input: body, version: { major: 0, minor: 1, revision: 0, build: 0 }, privateKey: key, target: 'mps2-an385', padHeader: true });
  if (!signed.ok) return t.fail(signed.reason);
  const img = signed.image;
  const protAt = 0x200 + body.length;
  // Protected: 0x6908, total 4 + (4 + 10) = 18 = ih_protect_tlv_size; the record is type 0x00b0, length 10, "mps2-an385".
  t.deepEqual([...img.subarray(protAt, protAt + 8)], [0x08, 0x69, 18, 0, 0xb0, 0x00, 10, 0]);
  t.is(img.readUInt16LE(10), 18, 'header protect_tlv_size');
  t.is(img.subarray(protAt + 8, protAt + 18).toString('utf8'), 'mps2-an385');
  // Unprotected: 0x6907, total 4 + (4+32) + (4+32) + (4+64) = 144; SHA256, KEYHASH, ED25519 in imgtool's order.
  const unAt = protAt + 18;
  t.deepEqual([...img.subarray(unAt, unAt + 4)], [0x07, 0x69, ...le16(144)]);
  t.deepEqual([...img.subarray(unAt + 4, unAt + 8)], [0x10, 0, 32, 0]);
  t.deepEqual([...img.subarray(unAt + 40, unAt + 44)], [0x01, 0, 32, 0]);
  t.deepEqual([...img.subarray(unAt + 76, unAt + 80)], [0x24, 0, 64, 0]);
  t.is(img.length, unAt + 144, 'nothing after the unprotected area');
  // The hash covers header + padding + body + protected area, and the key hash is of the SPKI DER.
  t.deepEqual(img.subarray(unAt + 8, unAt + 40), createHash('sha256').update(img.subarray(0, unAt)).digest());
  t.deepEqual(img.subarray(unAt + 44, unAt + 76), createHash('sha256').update(handSpki(key)).digest());
});

test('--pad-header puts 0xff header room in front of the body; without it the input must begin with zeros', (t) => {
  const version = { major: 1, minor: 0, revision: 0, build: 0 };
  const padded = signImage({ input: body, version, privateKey: key, target: null, headerSize: 0x200, padHeader: true });
  if (!padded.ok) return t.fail(padded.reason);
  t.is(padded.imgSize, body.length, 'the whole input is the body');
  t.true(padded.image.subarray(32, 0x200).every((b) => b === 0xff), 'bytes 32..0x1ff are the erased value');
  t.true(padded.image.subarray(0x200, 0x200 + body.length).equals(body));

  const linked = Buffer.concat([Buffer.alloc(0x200), body]);
  const inPlace = signImage({ input: linked, version, privateKey: key, target: null, headerSize: 0x200, padHeader: false });
  if (!inPlace.ok) return t.fail(inPlace.reason);
  t.is(inPlace.imgSize, body.length, 'the header room is not part of the body');
  t.true(inPlace.image.subarray(32, 0x200).every((b) => b === 0), 'the linked-in room stays zero');
  t.true(inPlace.image.subarray(0x200, 0x200 + body.length).equals(body));
  t.is(inPlace.image.readUInt32LE(12), body.length, 'img_size');

  const paddedZeros = signImage({ input: linked, version, privateKey: key, target: null, headerSize: 0x200, padHeader: true });
  if (!paddedZeros.ok) return t.fail(paddedZeros.reason);
  t.is(paddedZeros.imgSize, linked.length, 'with --pad-header leading zeros are body, not header room');
  t.true(paddedZeros.image.subarray(0x200, 0x400).every((b) => b === 0));

  const refused = signImage({ input: body, version, privateKey: key, target: null, headerSize: 0x200, padHeader: false });
  t.false(refused.ok);
  if (!refused.ok) t.regex(refused.reason, /does not start with 0x200 zero bytes.*--pad-header/);
  const short = signImage({ input: Buffer.alloc(0x100), version, privateKey: key, target: null, headerSize: 0x200, padHeader: false });
  t.false(short.ok, 'an input shorter than the header room');
});

test('an image with no protected TLVs has protect_tlv_size 0 and its unprotected area right after the body', (t) => {
  const signed = signImage({ input: body, version: { major: 1, minor: 0, revision: 0, build: 0 }, privateKey: key, target: null, padHeader: true });
  if (!signed.ok) return t.fail(signed.reason);
  t.is(signed.image.readUInt16LE(10), 0);
  t.is(signed.image.readUInt16LE(0x200 + body.length), 0x6907);
});

test('the parser reports where a hand-made image ends and what follows it', (t) => {
  const hand = handSignedImage({ body, key, target: 'mps2-an385' });
  const padded = Buffer.concat([hand.bytes, Buffer.alloc(100, 0xff)]);
  const parsed = parseImage(padded);
  if (!parsed.ok) return t.fail(parsed.detail);
  t.is(parsed.image.end, hand.bytes.length);
  t.is(parsed.image.hashedEnd, hand.unprotectedAt);
  t.deepEqual(parsed.image.protectedArea?.tlvs.map((x) => x.type), [0xb0]);
  t.deepEqual(parsed.image.unprotectedArea.tlvs.map((x) => x.type), [0x10, 0x01, 0x24]);
});

test('structural damage is named: magic, truncation, header size, TLV magics and lengths', (t) => {
  const hand = handSignedImage({ body, key, target: 'mps2-an385' });
  const reason = (bytes: Uint8Array): string => {
    const r = parseImage(bytes);
    return r.ok ? 'ok' : r.reason;
  };
  t.is(reason(hand.bytes), 'ok');
  t.is(reason(Buffer.from('not an image at all, just text')), 'bad-magic');
  t.is(reason(hand.bytes.subarray(0, 20)), 'truncated', 'cut in the header');
  t.is(reason(hand.bytes.subarray(0, hand.bodyAt + 10)), 'truncated', 'cut in the body');
  t.is(reason(hand.bytes.subarray(0, hand.protectedAt + 6)), 'truncated', 'cut in the protected area');
  t.is(reason(hand.bytes.subarray(0, hand.bytes.length - 1)), 'truncated', 'cut in the signature');
  const tiny = Buffer.from(hand.bytes);
  tiny.writeUInt16LE(16, 8);
  t.is(reason(tiny), 'bad-header', 'hdr_size below 32');
  const encrypted = Buffer.from(hand.bytes);
  encrypted.writeUInt32LE(0x04, 16);
  t.is(reason(encrypted), 'bad-header', 'encrypted');
  const protMagic = Buffer.from(hand.bytes);
  protMagic.writeUInt16LE(0x6909, hand.protectedAt);
  t.is(reason(protMagic), 'tlv-damaged');
  const protSize = Buffer.from(hand.bytes);
  protSize.writeUInt16LE(0, 10);
  t.is(reason(protSize), 'tlv-damaged', 'a protected area the header does not announce');
  const sizeDisagrees = Buffer.from(hand.bytes);
  sizeDisagrees.writeUInt16LE(22, 10);
  t.is(reason(sizeDisagrees), 'tlv-damaged', 'protected total differs from the header');
  const unMagic = Buffer.from(hand.bytes);
  unMagic.writeUInt16LE(0x6908, hand.unprotectedAt);
  t.is(reason(unMagic), 'tlv-damaged');
  const overrun = Buffer.from(hand.bytes);
  overrun.writeUInt16LE(33, hand.unprotectedAt + 6); // SHA256 record claims 33 bytes: records no longer fill the area exactly
  t.is(reason(overrun), 'tlv-damaged');
  const bigArea = Buffer.from(hand.bytes);
  bigArea.writeUInt16LE(2000, hand.unprotectedAt + 2);
  t.is(reason(bigArea), 'truncated', 'an area longer than the file');
});

test('versions read as imgtool reads them: X.Y.Z+B with later parts optional, within the field widths', (t) => {
  t.deepEqual(parseVersion('1.2.3+4'), { major: 1, minor: 2, revision: 3, build: 4 });
  t.deepEqual(parseVersion('1.2'), { major: 1, minor: 2, revision: 0, build: 0 });
  t.deepEqual(parseVersion('7'), { major: 7, minor: 0, revision: 0, build: 0 });
  t.deepEqual(parseVersion('255.255.65535+4294967295'), { major: 255, minor: 255, revision: 65535, build: 4294967295 });
  for (const bad of ['', '1.2.3.4', 'v1.2', '1.2+3', '256.0.0', '1.256.0', '1.0.65536', '1.0.0+4294967296', '-1']) {
    t.is(typeof parseVersion(bad), 'string', bad);
  }
  t.is(formatVersion({ major: 1, minor: 2, revision: 3, build: 0 }), '1.2.3+0');
});
