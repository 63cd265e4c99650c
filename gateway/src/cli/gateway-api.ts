// The CLI's way to the running gateway's HTTP API: where it listens, and the one function that calls it
// (with the API key of SPOT_GATEWAY_API_KEY when set: docs/security.md).
import type { GatewayConfig } from '../config/index.js';

/** The environment variable holding the API key the commands send (X-API-Key). */
export const API_KEY_ENV = 'SPOT_GATEWAY_API_KEY';

/**
 * The API of the gateway the configuration describes: a wildcard listen address is asked on
 * loopback; with TLS, the plain listener when there is one, else https (the certificate must be
 * trusted: NODE_EXTRA_CA_CERTS for a site CA).
 */
export function gatewayUrl(config: Pick<GatewayConfig, 'http'>): string {
  let host = config.http.host;
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::' || host === '[::]') host = '::1';
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  const tls = config.http.tls_cert_file !== undefined;
  if (tls && config.http.plain_port !== undefined) return `http://${host}:${config.http.plain_port}`;
  return `${tls ? 'https' : 'http'}://${host}:${config.http.port}`;
}

/** The gateway did not answer at all (as opposed to answering with an error status). */
export class GatewayUnreachableError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`no answer from the gateway at ${url} (${reason}): is it running? (systemctl status spot-gateway; --url to ask another address)`);
    this.name = 'GatewayUnreachableError';
  }
}

export interface GatewayCall {
  method?: 'GET' | 'POST' | 'PUT';
  body?: unknown;
  /** Bound on the whole exchange, headers and body (default 10 s). */
  timeoutMs?: number;
}

/** One request to the gateway's API; rejects with GatewayUnreachableError when nothing answers. */
export async function callGateway(baseUrl: string, path: string, call: GatewayCall, env: NodeJS.ProcessEnv): Promise<Response> {
  let url: URL;
  try {
    url = new URL(path, `${baseUrl}/`);
  } catch {
    throw new GatewayUnreachableError(baseUrl, 'not a URL');
  }
  try {
    return await fetch(url, {
      method: call.method ?? 'GET',
      headers: requestHeaders(call, env[API_KEY_ENV]),
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: AbortSignal.timeout(call.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${(call.timeoutMs ?? 10_000) / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new GatewayUnreachableError(baseUrl, reason);
  }
}

function requestHeaders(call: GatewayCall, apiKey: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (apiKey) headers['x-api-key'] = apiKey;
  return headers;
}
