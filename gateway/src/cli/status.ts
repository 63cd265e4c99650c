// `spot-gateway status`: the running gateway's /healthz and /api/status as a few lines for a terminal.
import type { CliIo } from './index.js';
import { callGateway, GatewayUnreachableError } from './gateway-api.js';
import { gatewayBase, parseOpsArgs } from './ops-options.js';

export const STATUS_HELP = `Usage: spot-gateway status [--config PATH] [--url URL] [--json]

Asks the running gateway (http.host and http.port of the configuration, or --url)
for its health and status and prints a summary: health and why, spots, backlog,
each upstream, the data disk, quarantine, rejected messages. Exits 0 when the
gateway answered (degraded or not), 1 when it did not answer.

Options:
  -c, --config PATH  YAML configuration file (default ./gateway.yaml if present)
      --url URL      the gateway's address, e.g. http://127.0.0.1:8080
      --json         the /api/status document as it is, with /healthz as "health"
  -h, --help         this help
`;

interface Health {
  status: string;
  reason: string | null;
}

interface UpstreamStatus {
  state: string;
  lag: number | null;
  rate: number;
  drops: number;
  refused: number;
  quarantined: number;
  delivery: { p99Ms: number | null } | null;
  lastError: string | null;
  /** The spot-server upstream only (docs/chaining.md). */
  spotsHeld?: number;
}

interface Status {
  gateway: { id: string; version: string; instanceId: string; uptimeS: number };
  buffer: { events: number; bytes: number; maxBytes: number; policy: string; oldestUnforwardedAgeMs: number | null; dropped: number; rejected: number; lastError: string | null };
  upstreams: Record<string, UpstreamStatus>;
  spots: { known: number; online: number };
  disk: { path: string; usedPercent: number; availableBytes: number; totalBytes: number; warnPercent: number; warning: boolean; error: string | null };
}

export function duration(ms: number | null): string {
  if (ms === null) return 'none';
  const s = ms / 1000;
  if (s < 60) return `${Math.round(s * 10) / 10} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

export function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  if (bytes < 1024 ** 3) return `${Math.round((bytes / 1024 ** 2) * 10) / 10} MiB`;
  return `${Math.round((bytes / 1024 ** 3) * 10) / 10} GiB`;
}

/** The summary a person reads. */
export function statusText(health: Health, s: Status): string {
  const lines: string[] = [];
  lines.push(`gateway ${s.gateway.id} (spot-gateway ${s.gateway.version}), up ${duration(s.gateway.uptimeS * 1000)}`);
  lines.push(`health     ${health.status}${health.reason ? `: ${health.reason}` : ''}`);
  lines.push(`spots      ${s.spots.online} online of ${s.spots.known} known`);
  const b = s.buffer;
  const names = Object.keys(s.upstreams);
  const backlog = names.length > 0 ? names.map((n) => s.upstreams[n]!.lag ?? 0).reduce((a, x) => Math.max(a, x), 0) : null;
  lines.push(
    `buffer     ${b.events} events, ${size(b.bytes)} of ${size(b.maxBytes)} (policy ${b.policy}); ` +
      (backlog === null ? 'no upstream: events are kept here' : `backlog ${backlog} events, oldest unforwarded ${duration(b.oldestUnforwardedAgeMs)}`) +
      `; ${b.dropped} dropped`,
  );
  if (b.lastError) lines.push(`           store error: ${b.lastError}`);
  for (const name of names) {
    const u = s.upstreams[name]!;
    const p99 = u.delivery?.p99Ms;
    lines.push(
      `upstream   ${name}: ${u.state}; lag ${u.lag ?? 'unknown'} events, ${Math.round(u.rate * 10) / 10}/s, ${u.drops} drops, ${u.refused} refused` +
        (p99 === null || p99 === undefined ? '' : `, delivery p99 ${Math.round(p99 * 10) / 10} ms`) +
        (u.spotsHeld ? `, ${u.spotsHeld} spot(s) held (refused by the server)` : '') +
        (u.lastError ? `; last error: ${u.lastError}` : ''),
    );
  }
  if (names.length === 0) lines.push('upstream   none configured (mqtt.url, spot_server.url)');
  const d = s.disk;
  lines.push(
    d.error
      ? `disk       ${d.path}: cannot be measured (${d.error})`
      : `disk       ${d.usedPercent} % used, ${size(d.availableBytes)} free of ${size(d.totalBytes)} (${d.path})${d.warning ? `: above ${d.warnPercent} %, WARNING` : ''}`,
  );
  const quarantined = names.reduce((sum, n) => sum + s.upstreams[n]!.quarantined, 0);
  lines.push(`quarantine ${quarantined} event(s)${quarantined > 0 ? ' (GET /api/quarantine)' : ''}`);
  lines.push(`rejected   ${b.rejected} malformed message(s) since the start${b.rejected > 0 ? ' (GET /api/rejected)' : ''}`);
  return `${lines.join('\n')}\n`;
}

async function getJson<T>(base: string, path: string, env: NodeJS.ProcessEnv): Promise<T> {
  const res = await callGateway(base, path, {}, env);
  const text = await res.text();
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${path} did not answer JSON (is ${base} a spot-gateway?)`);
  }
}

export async function runStatusCli(args: string[], io: CliIo): Promise<number> {
  const parsed = parseOpsArgs(args, STATUS_HELP, io, { url: true, json: true });
  if (!parsed) return 2;
  if (parsed.help) {
    io.out(STATUS_HELP);
    return 0;
  }
  const base = gatewayBase(parsed, io);
  if (base === null) return 2;
  try {
    const [health, status] = await Promise.all([getJson<Health>(base, '/healthz', io.env), getJson<Status>(base, '/api/status', io.env)]);
    io.out(parsed.json ? `${JSON.stringify({ ...status, health }, null, 2)}\n` : statusText(health, status));
    return 0;
  } catch (err) {
    const reason = err instanceof GatewayUnreachableError ? err.message : `${base}: ${(err as Error).message}`;
    io.err(`spot-gateway: ${reason}\n`);
    return 1;
  }
}
