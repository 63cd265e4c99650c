// Where and how to connect: the broker URL (mqtt:// or mqtts://) and the TLS material, read at
// each connection attempt so that renewed certificate files are picked up without a restart.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export interface TlsFiles {
  /** PEM file of the CA(s) the broker's certificate must chain to; unset: the system's CAs. */
  caFile?: string;
  /** PEM client certificate and its key, for brokers that require one. */
  certFile?: string;
  keyFile?: string;
  /** Check that the certificate names the host of the URL (default true). */
  verifyServerName?: boolean;
}

export interface BrokerTarget {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
}

const SCHEMES: Record<string, { tls: boolean; port: number }> = {
  'mqtt:': { tls: false, port: 1883 },
  'tcp:': { tls: false, port: 1883 },
  'mqtts:': { tls: true, port: 8883 },
  'ssl:': { tls: true, port: 8883 },
};

/** The broker URL taken apart; throws naming what is wrong. */
export function parseBrokerUrl(url: string): BrokerTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`broker URL ${JSON.stringify(url)} is not a URL (expected e.g. mqtt://host:1883 or mqtts://host:8883)`);
  }
  const scheme = SCHEMES[parsed.protocol];
  if (!scheme) {
    throw new Error(`broker URL ${JSON.stringify(url)}: scheme ${parsed.protocol.slice(0, -1)} is not supported (mqtt, mqtts, tcp, ssl)`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new Error(`broker URL ${JSON.stringify(url)} has no host`);
  const target: BrokerTarget = { host, port: parsed.port === '' ? scheme.port : Number(parsed.port), tls: scheme.tls };
  if (parsed.username !== '') target.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') target.password = decodeURIComponent(parsed.password);
  return target;
}

function readPem(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${key}: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Options for tls.connect; throws naming the file that cannot be read. */
export function tlsOptions(target: BrokerTarget, files: TlsFiles): tls.ConnectionOptions {
  const options: tls.ConnectionOptions = { host: target.host, port: target.port, rejectUnauthorized: true };
  // SNI takes a host name only.
  if (net.isIP(target.host) === 0) options.servername = target.host;
  if (files.caFile !== undefined) options.ca = readPem('mqtt.tls_ca_file', files.caFile);
  if (files.certFile !== undefined) options.cert = readPem('mqtt.tls_cert_file', files.certFile);
  if (files.keyFile !== undefined) options.key = readPem('mqtt.tls_key_file', files.keyFile);
  // The chain is always verified; this only skips matching the name (a broker reached by an address its certificate does not list).
  if (files.verifyServerName === false) options.checkServerIdentity = () => undefined;
  return options;
}

/** What a failed handshake means for the operator, naming the key to look at. */
export function tlsFailure(target: BrokerTarget, err: Error): Error {
  const code = (err as { code?: unknown }).code;
  const text = typeof code === 'string' ? code : '';
  let hint = '';
  if (text === 'ERR_TLS_CERT_ALTNAME_INVALID') hint = `; the certificate does not name ${target.host} (mqtt.tls_verify_server_name)`;
  // An alert is the broker's refusal (of the client's certificate, say); the other codes are the client's verdict on the broker's.
  else if (/ALERT/.test(text)) hint = '; the broker refused the handshake (a client certificate: mqtt.tls_cert_file, mqtt.tls_key_file)';
  else if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ISSUER/.test(text)) hint = "; the broker's certificate is not trusted (mqtt.tls_ca_file)";
  // OpenSSL's text ("...:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:file:line:...") reduced to its reason.
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message;
  return Object.assign(new Error(`TLS with ${target.host}:${target.port} failed: ${reason}${hint}`), { code });
}
