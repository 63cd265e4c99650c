// Whether the main listener speaks TLS: the one fact other parts (Secure cookies, links) read (docs/tls.md).
import type { GatewayConfig } from './schema.js';

/** True when both TLS files are set: http.port then speaks HTTPS only. */
export function tlsEnabled(http: GatewayConfig['http']): boolean {
  return http.tls_cert_file !== undefined && http.tls_key_file !== undefined;
}
