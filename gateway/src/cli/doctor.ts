// `spot-gateway doctor`: runs the checks of doctor-checks.ts and says what to fix; exit 0 without a fail.
import type { CliIo } from './index.js';
import { CHECKS, runCommand, type CheckResult, type DoctorContext } from './doctor-checks.js';
import { opsConfig, parseOpsArgs } from './ops-options.js';

export const DOCTOR_HELP = `Usage: spot-gateway doctor [--config PATH] [--json]

Checks what the gateway needs on this machine, with the configuration \`run\` would
use: the HTTP port (free, or held by this gateway), free space on the data
filesystem (fail under 5 %, warn under 10 %), the data directory writable by this
user, serial devices readable and writable, the MQTT broker reachable (TCP), the
clock (a plausible year; NTP synchronised per timedatectl), Node.js 20 or later.
Each line says ok, WARN or FAIL, and for the last two what to do. Run it as the
service's user (sudo -u spot-gateway spot-gateway doctor --config
/etc/spot-gateway/gateway.yaml) for the permissions to mean anything.
Exits 0 when nothing failed (warnings allowed), 1 otherwise.

Options:
  -c, --config PATH  YAML configuration file (default ./gateway.yaml if present)
      --json         the results as a JSON array
  -h, --help         this help
`;

const MARK: Record<CheckResult['verdict'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

export function doctorText(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = results.map((r) => `${MARK[r.verdict]}  ${r.name.padEnd(width)}  ${r.detail}${r.fix ? `\n      ${' '.repeat(width)}  fix: ${r.fix}` : ''}`);
  const fails = results.filter((r) => r.verdict === 'fail').length;
  const warns = results.filter((r) => r.verdict === 'warn').length;
  lines.push(fails > 0 ? `${fails} check(s) failed, ${warns} warning(s)` : `nothing failed${warns > 0 ? `, ${warns} warning(s)` : ''}`);
  return `${lines.join('\n')}\n`;
}

export async function runDoctorCli(args: string[], io: CliIo, context: Partial<DoctorContext> = {}): Promise<number> {
  const parsed = parseOpsArgs(args, DOCTOR_HELP, io, { json: true });
  if (!parsed) return 2;
  if (parsed.help) {
    io.out(DOCTOR_HELP);
    return 0;
  }
  const config = opsConfig(parsed, io);
  if (!config) return 2;
  const ctx: DoctorContext = { config, now: Date.now, nodeVersion: process.versions.node, devDir: '/dev', run: runCommand, timeoutMs: 3000, ...context };
  const results: CheckResult[] = [];
  for (const check of CHECKS) results.push(await check(ctx));
  io.out(parsed.json ? `${JSON.stringify(results, null, 2)}\n` : doctorText(results));
  return results.some((r) => r.verdict === 'fail') ? 1 : 0;
}
