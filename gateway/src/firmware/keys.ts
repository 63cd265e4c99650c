// Ed25519 signing keys in the PEM forms imgtool writes (PKCS#8 private, SubjectPublicKeyInfo public),
// and the key hash MCUboot matches against: SHA-256 of the public key's DER SubjectPublicKeyInfo.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface KeyPairPem {
  privatePem: string;
  publicPem: string;
}

/** A fresh key pair from the system's CSPRNG. */
export function generateSigningKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

export type KeyResult = { ok: true; key: KeyObject } | { ok: false; reason: string };

function ed25519Only(key: KeyObject, what: string): KeyResult {
  if (key.asymmetricKeyType !== 'ed25519') return { ok: false, reason: `${what} is an ${key.asymmetricKeyType ?? 'unknown'} key; image signing uses ed25519` };
  return { ok: true, key };
}

/** A private key from PEM text (PKCS#8, as `imgtool keygen -t ed25519` writes it). */
export function readPrivateKey(pem: string | Buffer): KeyResult {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    return { ok: false, reason: `not a PEM private key (${(err as Error).message})` };
  }
  return ed25519Only(key, 'the private key');
}

/** A public key from PEM text: SubjectPublicKeyInfo, or a private key whose public half is taken. */
export function readPublicKey(pem: string | Buffer): KeyResult {
  const text = pem.toString();
  let key: KeyObject;
  try {
    key = text.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey({ key: text, format: 'pem' })) : createPublicKey({ key: text, format: 'pem' });
  } catch (err) {
    return { ok: false, reason: `not a PEM public or private key (${(err as Error).message})` };
  }
  return ed25519Only(key, 'the public key');
}

/** The public key as DER SubjectPublicKeyInfo (44 bytes for ed25519): what imgtool embeds and hashes. */
export function publicKeyDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' });
}

/** The KEYHASH TLV value: SHA-256 of the SubjectPublicKeyInfo DER. */
export function keyHash(key: KeyObject): Buffer {
  return createHash('sha256').update(publicKeyDer(key)).digest();
}
