// The HTTPS listener's certificate: the pair read from its files, checked, reloaded on SIGHUP, its expiry watched (docs/tls.md).
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

/** TLS 1.0 and 1.1 are deprecated (RFC 8996); the spots' mbedTLS speaks 1.2, so 1.3 alone would lock them out. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/** Under this many days before notAfter, /healthz says degraded and the start and every reload warn. */
export const EXPIRY_WARN_DAYS = 14;
const DAY_MS = 86_400_000;

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** Hex, as openssl prints it. */
  serial: string;
  fingerprint256: string;
  notBefore: string;
  notAfter: string;
  notAfterMs: number;
}

export interface TlsPair {
  options: tls.SecureContextOptions;
  info: CertificateInfo;
}

/** A pair that cannot be served; the message names the key, the file and the reason. */
export class TlsPairError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsPairError';
  }
}

function readPem(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsPairError(`${key} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

function isoDate(text: string, what: string, file: string): { iso: string; ms: number } {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new TlsPairError(`http.tls_cert_file ${file}: ${what} ${JSON.stringify(text)} is not a date`);
  return { iso: new Date(ms).toISOString(), ms };
}

/** A subject or issuer as one line: "CN=gateway.site1.lan, O=site1". */
function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

/** Reads and checks the pair: both PEM, the key the certificate's, accepted by OpenSSL. Throws TlsPairError. */
export function readTlsPair(files: TlsFiles): TlsPair {
  const certPem = readPem('http.tls_cert_file', files.certFile);
  const keyPem = readPem('http.tls_key_file', files.keyFile);
  if (!certPem.includes('-----BEGIN CERTIFICATE-----')) throw new TlsPairError(`http.tls_cert_file ${files.certFile}: holds no PEM certificate`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new TlsPairError(`http.tls_cert_file ${files.certFile}: not a readable certificate (${(err as Error).message})`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new TlsPairError(`http.tls_key_file ${files.keyFile}: not an unencrypted PEM private key (${(err as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new TlsPairError(`http.tls_key_file ${files.keyFile} does not belong to the certificate in http.tls_cert_file ${files.certFile}`);
  }
  const options: tls.SecureContextOptions = { cert: certPem, key: keyPem, minVersion: TLS_MIN_VERSION };
  try {
    tls.createSecureContext(options);
  } catch (err) {
    throw new TlsPairError(`http.tls_cert_file ${files.certFile} with http.tls_key_file ${files.keyFile}: refused by OpenSSL (${(err as Error).message})`);
  }
  const notBefore = isoDate(cert.validFrom, 'notBefore', files.certFile);
  const notAfter = isoDate(cert.validTo, 'notAfter', files.certFile);
  return {
    options,
    info: {
      subject: oneLine(cert.subject),
      issuer: oneLine(cert.issuer),
      serial: cert.serialNumber,
      fingerprint256: cert.fingerprint256,
      notBefore: notBefore.iso,
      notAfter: notAfter.iso,
      notAfterMs: notAfter.ms,
    },
  };
}

/** "expires in 9 days (…)" under the warning bound, "expired … ago" past it; null when far enough. */
export function expiryProblem(info: CertificateInfo, nowMs: number): string | null {
  const left = info.notAfterMs - nowMs;
  if (left >= EXPIRY_WARN_DAYS * DAY_MS) return null;
  const when = left > 0 ? `expires in ${Math.floor(left / DAY_MS)} days` : `expired ${Math.floor(-left / DAY_MS)} days ago`;
  return `TLS certificate ${info.subject} ${when} (${info.notAfter}): renew it and reload`;
}

export interface TlsLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface TlsCertificateOptions {
  files: TlsFiles;
  now: () => number;
  logger: TlsLogger;
}

interface ReloadOutcome {
  ok: boolean;
  atMs: number;
  reason: string | null;
}

/** The certificate served now, its reloads, and the handshakes that failed. */
export class TlsCertificate {
  private pair: TlsPair;
  private lastReload: ReloadOutcome | null = null;
  private failures = 0;
  private lastFailure: { reason: string; atMs: number } | null = null;

  /** Reads the pair; throws TlsPairError (the start fails with its message). */
  constructor(private readonly options: TlsCertificateOptions) {
    this.pair = readTlsPair(options.files);
    this.warnIfExpiring();
  }

  /** The secure-context options of the listener (certificate, key, minimum version). */
  get secureOptions(): tls.SecureContextOptions {
    return this.pair.options;
  }

  get info(): CertificateInfo {
    return this.pair.info;
  }

  /**
   * Reads the files again. A good pair goes to `apply` (server.setSecureContext: new
   * handshakes only, open connections keep theirs); a bad one keeps the running pair.
   */
  reload(apply: (options: tls.SecureContextOptions) => void): boolean {
    const atMs = this.options.now();
    const running = this.pair.info;
    try {
      const next = readTlsPair(this.options.files);
      apply(next.options);
      this.pair = next;
      this.lastReload = { ok: true, atMs, reason: null };
      const i = next.info;
      this.options.logger.info({ subject: i.subject, serial: i.serial, notAfter: i.notAfter }, `TLS certificate reloaded: ${i.subject}, serial ${i.serial}, valid until ${i.notAfter}`);
      this.warnIfExpiring();
      return true;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.lastReload = { ok: false, atMs, reason };
      this.options.logger.error(
        { reason, subject: running.subject, serial: running.serial },
        `TLS reload refused: ${reason}; still serving ${running.subject}, serial ${running.serial}`,
      );
      return false;
    }
  }

  /** A connection that failed its handshake (tlsClientError): counted, the last reason kept. */
  handshakeFailed(err: Error): void {
    this.failures++;
    const reason = (err as Error & { reason?: unknown }).reason;
    this.lastFailure = { reason: typeof reason === 'string' ? reason : err.message, atMs: this.options.now() };
  }

  get handshakeFailures(): number {
    return this.failures;
  }

  /** Seconds until notAfter (negative once expired). */
  expiresInS(): number {
    return Math.round((this.pair.info.notAfterMs - this.options.now()) / 1000);
  }

  /** What /healthz reports: a failed last reload, an expiry under the warning bound. */
  problems(): string[] {
    const problems: string[] = [];
    if (this.lastReload && !this.lastReload.ok) {
      problems.push(`TLS reload refused: ${this.lastReload.reason}; still serving ${this.pair.info.subject}, serial ${this.pair.info.serial}`);
    }
    const expiry = expiryProblem(this.pair.info, this.options.now());
    if (expiry) problems.push(expiry);
    return problems;
  }

  /** The `tls` part of /api/status. */
  view(): Record<string, unknown> {
    const iso = (ms: number): string => new Date(ms).toISOString();
    const { notAfterMs: _ms, ...info } = this.pair.info;
    return {
      ...info,
      expiresInS: this.expiresInS(),
      minVersion: TLS_MIN_VERSION,
      handshakeFailures: this.failures,
      lastHandshakeFailure: this.lastFailure ? { reason: this.lastFailure.reason, at: iso(this.lastFailure.atMs) } : null,
      lastReload: this.lastReload ? { ok: this.lastReload.ok, at: iso(this.lastReload.atMs), reason: this.lastReload.reason } : null,
    };
  }

  private warnIfExpiring(): void {
    const problem = expiryProblem(this.pair.info, this.options.now());
    if (problem) this.options.logger.warn({ notAfter: this.pair.info.notAfter }, problem);
  }
}
