// The checks of `spot-gateway doctor`: each looks at one thing the gateway needs and says what to fix.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { GatewayConfig } from '../config/index.js';
import { percentText, usedRatioOf } from '../disk-space.js';
import { DB_FILE } from '../store/index.js';
import { callGateway, gatewayUrl } from './gateway-api.js';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  verdict: Verdict;
  /** What was found. */
  detail: string;
  /** What to do about it (warn and fail). */
  fix?: string;
}

export interface DoctorContext {
  config: GatewayConfig;
  now: () => number;
  /** process.versions.node */
  nodeVersion: string;
  /** Where serial devices appear (/dev). */
  devDir: string;
  /** Runs a command; rejects when it cannot be run (timedatectl missing). */
  run: (cmd: string, args: string[]) => Promise<string>;
  /** Bound on each network check (TCP connect, HTTP). */
  timeoutMs: number;
}

export type Check = (ctx: DoctorContext) => Promise<CheckResult>;

function user(): string {
  try {
    const me = os.userInfo();
    return `${me.username} (uid ${me.uid})`;
  } catch {
    return 'this user';
  }
}

/** Whether something accepts TCP connections at host:port within the bound. */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: { ok: true } | { ok: false; reason: string }): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, reason: `no answer within ${timeoutMs / 1000} s` }));
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, reason: err.code ?? err.message }));
  });
}

/** The HTTP port: free to listen on, or held by this gateway already (it answers /healthz). */
export const checkPort: Check = async (ctx) => {
  const { host, port } = ctx.config.http;
  const where = `${host}:${port}`;
  if (port === 0) return { name: 'port', verdict: 'ok', detail: 'http.port is 0: the gateway takes any free port' };
  const listened = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
  if (listened === null) return { name: 'port', verdict: 'ok', detail: `${where} is free` };
  if (listened.code === 'EADDRINUSE') {
    try {
      const res = await callGateway(gatewayUrl(ctx.config), '/healthz', { timeoutMs: ctx.timeoutMs }, {}); // /healthz needs no API key
      const body = (await res.json()) as { status?: unknown };
      if (res.ok && (body.status === 'ok' || body.status === 'degraded')) {
        return { name: 'port', verdict: 'ok', detail: `${where} is held by a running spot-gateway (healthz ${String(body.status)})` };
      }
    } catch {
      // not a gateway: below
    }
    return {
      name: 'port',
      verdict: 'fail',
      detail: `${where} is in use by a program that is not a spot-gateway`,
      fix: `find it with \`ss -ltnp 'sport = :${port}'\` and stop it, or choose another http.port (SPOT_GATEWAY_HTTP_PORT)`,
    };
  }
  if (listened.code === 'EACCES') {
    return { name: 'port', verdict: 'fail', detail: `no permission to listen on ${where}`, fix: 'use a port above 1023 (http.port)' };
  }
  if (listened.code === 'EADDRNOTAVAIL') {
    return { name: 'port', verdict: 'fail', detail: `${host} is not an address of this machine`, fix: 'set http.host to one of its addresses, or 0.0.0.0' };
  }
  return { name: 'port', verdict: 'fail', detail: `cannot listen on ${where}: ${listened.code ?? listened.message}`, fix: 'check http.host and http.port' };
};

/** The nearest directory that exists at or above `dir`. */
function existingAncestor(dir: string): string {
  let at = path.resolve(dir);
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}

/** Free space on the data filesystem: fail under 5 %, warn under 10 %. */
export const checkDisk: Check = async (ctx) => {
  const dir = existingAncestor(ctx.config.data_dir);
  let stats: fs.StatsFs;
  try {
    stats = fs.statfsSync(dir);
  } catch (err) {
    return { name: 'disk', verdict: 'fail', detail: `cannot measure the filesystem of ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, fix: 'check data_dir' };
  }
  const free = 1 - usedRatioOf(stats);
  const detail = `${percentText(free)} free on the filesystem of ${dir} (${Math.round((stats.bavail * stats.bsize) / 1048576)} MiB)`;
  const fix = 'free space on that filesystem (old backups, logs: journalctl --vacuum-size=100M), or lower buffer.max_mb';
  if (free < 0.05) return { name: 'disk', verdict: 'fail', detail, fix };
  if (free < 0.1) return { name: 'disk', verdict: 'warn', detail, fix };
  return { name: 'disk', verdict: 'ok', detail };
};

/** The data dir exists (or can be made) and this user can write in it and the database. */
export const checkDataDir: Check = async (ctx) => {
  const dir = path.resolve(ctx.config.data_dir);
  const fixOwner = `make it the service user's: chown -R spot-gateway: ${dir} (run doctor as that user: sudo -u spot-gateway spot-gateway doctor --config ...)`;
  if (!fs.existsSync(dir)) {
    const parent = existingAncestor(dir);
    try {
      fs.accessSync(parent, fs.constants.W_OK | fs.constants.X_OK);
    } catch {
      return { name: 'data dir', verdict: 'fail', detail: `${dir} does not exist and ${parent} is not writable by ${user()}`, fix: `mkdir -p ${dir}, then ${fixOwner}` };
    }
    return { name: 'data dir', verdict: 'warn', detail: `${dir} does not exist yet; the gateway makes it at start`, fix: `mkdir -p ${dir} to be sure of its owner` };
  }
  if (!fs.statSync(dir).isDirectory()) return { name: 'data dir', verdict: 'fail', detail: `${dir} is not a directory`, fix: 'point data_dir at a directory' };
  // A real write, not access(2): it also sees a read-only filesystem and immutable attributes.
  const probe = path.join(dir, `.doctor-${process.pid}`);
  try {
    fs.writeFileSync(probe, 'probe');
    fs.rmSync(probe);
  } catch (err) {
    return { name: 'data dir', verdict: 'fail', detail: `${dir} is not writable by ${user()}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, fix: fixOwner };
  }
  const db = path.join(dir, DB_FILE);
  if (fs.existsSync(db)) {
    try {
      fs.accessSync(db, fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      return { name: 'data dir', verdict: 'fail', detail: `${db} is not writable by ${user()}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, fix: fixOwner };
    }
  }
  return { name: 'data dir', verdict: 'ok', detail: `${dir} is writable by ${user()}` };
};

const SERIAL_NAME = /^(ttyUSB|ttyACM|ttyAMA|ttyS[A-Z]|serial)\d*$/;

/** Serial devices (spots on a serial line, flashing): readable and writable by this user. */
export const checkSerial: Check = async (ctx) => {
  let names: string[];
  try {
    names = fs.readdirSync(ctx.devDir).filter((n) => SERIAL_NAME.test(n));
  } catch {
    names = [];
  }
  if (names.length === 0) return { name: 'serial', verdict: 'ok', detail: `no serial device in ${ctx.devDir} (needed only for spots on a serial line and flashing)` };
  const refused: string[] = [];
  for (const name of names.sort()) {
    try {
      fs.accessSync(path.join(ctx.devDir, name), fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      refused.push(`${name} (${(err as NodeJS.ErrnoException).code ?? 'refused'})`);
    }
  }
  const list = names.map((n) => path.join(ctx.devDir, n)).join(', ');
  if (refused.length === 0) return { name: 'serial', verdict: 'ok', detail: `readable and writable: ${list}` };
  return {
    name: 'serial',
    verdict: 'fail',
    detail: `not readable and writable by ${user()}: ${refused.join(', ')}`,
    fix: 'add the user to the dialout group (usermod -aG dialout <user>, then log in again; the unit has SupplementaryGroups=dialout)',
  };
};

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ssl:': 8883, 'ws:': 80, 'wss:': 443 };

/** The MQTT broker accepts a TCP connection (no MQTT or TLS handshake). */
export const checkUpstream: Check = async (ctx) => {
  const url = ctx.config.mqtt.url;
  if (url === undefined) return { name: 'upstream', verdict: 'ok', detail: 'no mqtt.url: events are kept locally' };
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port ? Number(parsed.port) : (DEFAULT_PORTS[parsed.protocol] ?? 1883);
  const result = await tcpConnect(host, port, ctx.timeoutMs);
  if (result.ok) return { name: 'upstream', verdict: 'ok', detail: `${host}:${port} accepts connections` };
  return {
    name: 'upstream',
    verdict: 'fail',
    detail: `cannot reach the broker at ${host}:${port}: ${result.reason}`,
    fix: 'check that the broker runs and mqtt.url (host, port); a firewall between; the gateway buffers events meanwhile',
  };
};

/** The clock: a year that can be right, and NTP synchronised where timedatectl can say. */
export const checkClock: Check = async (ctx) => {
  const year = new Date(ctx.now()).getUTCFullYear();
  if (year < 2024) {
    return {
      name: 'clock',
      verdict: 'fail',
      detail: `the clock says ${new Date(ctx.now()).toISOString()}`,
      fix: 'set the time and keep it set: timedatectl set-ntp true (a Pi has no battery-backed clock)',
    };
  }
  let synced: string;
  try {
    synced = (await ctx.run('timedatectl', ['show', '--property=NTPSynchronized', '--value'])).trim();
  } catch {
    return { name: 'clock', verdict: 'ok', detail: `year ${year}; NTP state not known (no timedatectl answer)` };
  }
  if (synced === 'yes') return { name: 'clock', verdict: 'ok', detail: `year ${year}, synchronised by NTP` };
  return { name: 'clock', verdict: 'warn', detail: `year ${year}, not synchronised by NTP (NTPSynchronized=${synced || 'unknown'})`, fix: 'timedatectl set-ntp true; check that the NTP servers are reachable' };
};

/** Node.js 20 or later. */
export const checkNode: Check = async (ctx) => {
  const major = Number(ctx.nodeVersion.split('.')[0]);
  if (major >= 20) return { name: 'node', verdict: 'ok', detail: `Node.js ${ctx.nodeVersion}` };
  return { name: 'node', verdict: 'fail', detail: `Node.js ${ctx.nodeVersion} is older than 20`, fix: 'install Node.js 20 (docs/operations.md, "Node 20 on Debian 12")' };
};

export const CHECKS: readonly Check[] = [checkPort, checkDisk, checkDataDir, checkSerial, checkUpstream, checkClock, checkNode];

/** The real machine's way to run a command (bounded). */
export function runCommand(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 3000 }, (err, stdout) => (err ? reject(new Error(err.message)) : resolve(stdout)));
  });
}
