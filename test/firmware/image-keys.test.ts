// Signing keys in imgtool's forms: PKCS#8 private and SubjectPublicKeyInfo public PEM, and the key hash
// over the SPKI DER (not the raw 32 bytes), which is what MCUboot compares.
import { createHash, generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import { generateSigningKeyPair, keyHash, publicKeyDer, readPrivateKey, readPublicKey } from '../../gateway/src/firmware/keys.js';
import { FIXED_SEED, handSpki, keyFromSeed } from './image-vectors.js';

test('a new key pair is PEM PKCS#8 private and PEM SubjectPublicKeyInfo public, ed25519', (t) => {
  const pair = generateSigningKeyPair();
  t.regex(pair.privatePem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
  t.regex(pair.publicPem, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
  const priv = readPrivateKey(pair.privatePem);
  const pub = readPublicKey(pair.publicPem);
  if (!priv.ok || !pub.ok) return t.fail('keys do not read back');
  t.deepEqual(keyHash(priv.key), keyHash(pub.key), 'the two halves belong together');
});

test('the key hash is SHA-256 of the 44-byte SubjectPublicKeyInfo DER', (t) => {
  const key = keyFromSeed(FIXED_SEED);
  const der = publicKeyDer(key);
  t.is(der.length, 44);
  t.deepEqual(der, handSpki(key));
  // RFC 8032 test 1: this seed's public key.
  t.is(der.subarray(12).toString('hex'), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  t.deepEqual(keyHash(key), createHash('sha256').update(handSpki(key)).digest());
  t.notDeepEqual(keyHash(key), createHash('sha256').update(der.subarray(12)).digest(), 'not the hash of the raw key');
});

test('--pub takes a private key too (its public half), as imgtool verify -k does', (t) => {
  const pair = generateSigningKeyPair();
  const fromPrivate = readPublicKey(pair.privatePem);
  const fromPublic = readPublicKey(pair.publicPem);
  if (!fromPrivate.ok || !fromPublic.ok) return t.fail('not read');
  t.is(fromPrivate.key.type, 'public');
  t.deepEqual(keyHash(fromPrivate.key), keyHash(fromPublic.key));
});

test('keys of another type or text that is no key are refused with a reason', (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const rsaPrivate = readPrivateKey(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  t.false(rsaPrivate.ok);
  if (!rsaPrivate.ok) t.regex(rsaPrivate.reason, /rsa key; image signing uses ed25519/);
  const rsaPublic = readPublicKey(rsa.publicKey.export({ format: 'pem', type: 'spki' }));
  t.false(rsaPublic.ok);
  const junk = readPrivateKey('hello');
  t.false(junk.ok);
  if (!junk.ok) t.regex(junk.reason, /not a PEM private key/);
  t.false(readPrivateKey(generateSigningKeyPair().publicPem).ok, 'a public key where the private one is needed');
});
