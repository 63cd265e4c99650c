// `spot-gateway replay`: re-sends a range of the buffer's history to the MQTT upstream, with the
// topics, payloads and event ids the forwarder used (docs/operations.md, "Recover from an upstream
// loss with replay").
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, parseDuration, type GatewayConfig } from '../config/index.js';
import { HistoryReader, type HistoryFacts } from '../store/history-reader.js';
import { ReplayPublisher } from '../upstream/replay-publisher.js';
import { Topics } from '../upstream/topics.js';
import type { CliIo } from './index.js';

export const REPLAY_HELP = `Usage: spot-gateway replay --upstream mqtt --since TIME [--until TIME] [--spot SERIAL]
                           [--config PATH] [--dry-run]

Re-sends the events the buffer received from --since up to (not including) --until,
in id order, to the configured MQTT broker (mqtt.url), with the topics, payloads and
event ids (MQTT 5 user property event_id) the gateway forwarded them with: consumers
that drop duplicates by event_id see each event once. QoS 1; every PUBACK is awaited.
Reads the buffer (data_dir) read-only: the gateway may keep running. The buffer holds
forwarded events for buffer.retain (docs/storage.md); a range reaching below what it
holds is refused, saying which part is gone.

TIME: ISO 8601 (2026-12-07T08:00:00Z, 2026-12-07) or relative to now: -2h, -30m, -1d, -90.

Options:
      --upstream mqtt  where to send (replay sends to MQTT only)
      --since TIME     first receipt time to send (required)
      --until TIME     receipt time to stop before (default: now)
      --spot SERIAL    only this spot's events
  -c, --config PATH    YAML configuration file (default ./gateway.yaml if present)
      --dry-run        print what would be sent, connect to nothing
  -h, --help           this help

Exit status: 0 sent (or would send) everything; 1 the range is not all held, the broker
could not be reached or did not acknowledge; 2 bad arguments or configuration.
`;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** ISO 8601, or `-<duration>` before `now`; unix ms, or the reason. */
export function parseTime(text: string, now: number): { ok: true; ms: number } | { ok: false; reason: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('-')) {
    const d = parseDuration(trimmed.slice(1));
    return d.ok ? { ok: true, ms: now - d.ms } : { ok: false, reason: `${JSON.stringify(text)}: a relative time is - and a duration (-2h, -30m, -1d, -90)` };
  }
  const ms = ISO_TIME.test(trimmed) ? Date.parse(trimmed) : NaN;
  return Number.isFinite(ms) ? { ok: true, ms } : { ok: false, reason: `${JSON.stringify(text)} is neither an ISO 8601 time (2026-12-07T08:00:00Z) nor a relative one (-2h)` };
}

interface ReplayArgs {
  since: number;
  until: number;
  /** No --until: up to now. */
  untilNow: boolean;
  spot?: string;
  config?: string;
  dryRun: boolean;
}

type Parsed = { help: true } | { help: false; args: ReplayArgs } | { error: string };

/** `--since -2h`: parseArgs takes a value starting with "-" for an option; it is joined as `--since=-2h`. */
function joinRelativeTimes(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if ((arg === '--since' || arg === '--until') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function parse(argv: string[], now: number): Parsed {
  let values;
  try {
    ({ values } = parseArgs({
      args: joinRelativeTimes(argv),
      allowPositionals: false,
      options: {
        upstream: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        spot: { type: 'string' },
        config: { type: 'string', short: 'c' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { error: (err as Error).message };
  }
  if (values.help) return { help: true };
  if (values.upstream === undefined) return { error: '--upstream is required (mqtt)' };
  if (values.upstream !== 'mqtt') return { error: `--upstream ${JSON.stringify(values.upstream)}: replay sends to mqtt only (the spot_server upstream sends again from its cursors, docs/chaining.md)` };
  if (values.since === undefined) return { error: '--since is required' };
  const since = parseTime(values.since, now);
  if (!since.ok) return { error: `--since ${since.reason}` };
  const until = values.until === undefined ? { ok: true as const, ms: now + 1 } : parseTime(values.until, now);
  if (!until.ok) return { error: `--until ${until.reason}` };
  if (until.ms <= since.ms) return { error: `--until (${iso(until.ms)}) must be after --since (${iso(since.ms)})` };
  if (values.spot === '') return { error: '--spot must not be empty' };
  return { help: false, args: { since: since.ms, until: until.ms, untilNow: values.until === undefined, spot: values.spot, config: values.config, dryRun: values['dry-run'] ?? false } };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Why [since, until) is not all in the buffer, or null when it is. */
export function missingPart(facts: HistoryFacts, since: number, until: number, now: number): string | null {
  if (facts.retainMs === null || facts.retainMs === 0) {
    return `the buffer keeps no history: buffer.retain was ${facts.retainMs === null ? 'not set (a buffer from before retain)' : '0'} when the gateway last opened it, so forwarded events were pruned at once`;
  }
  // history_from: every event received after it is held (those received at that very ms may be gone).
  if (facts.historyFrom === null || since > facts.historyFrom) return null;
  const complete = facts.historyFrom + 1;
  const goneTo = Math.min(complete, until);
  const cause =
    facts.historyFrom > now - facts.retainMs
      ? `the size cap removed them (buffer.max_mb holds less than buffer.retain, ${facts.retainMs / 1000} s, of history), or buffer.retain was 0 until then`
      : `they were older than buffer.retain (${facts.retainMs / 1000} s) and pruned`;
  return `events received from ${iso(since)} to ${iso(goneTo)} are gone: ${cause}; the buffer holds every event received from ${iso(complete)}: use --since ${iso(complete)} or later`;
}

interface SpotTally {
  count: number;
  first: number;
  last: number;
}

/** Runs `spot-gateway replay ...` (argv after "replay"); resolves with the exit code. */
export async function runReplayCli(argv: string[], io: CliIo, now: () => number = Date.now): Promise<number> {
  const parsed = parse(argv, now());
  if ('error' in parsed) {
    io.err(`spot-gateway replay: ${parsed.error}\n\n${REPLAY_HELP}`);
    return 2;
  }
  if (parsed.help) {
    io.out(REPLAY_HELP);
    return 0;
  }
  const { args } = parsed;
  let config: GatewayConfig;
  try {
    config = loadConfig({ file: args.config, env: io.env, cwd: io.cwd }).config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`spot-gateway replay: ${err.message}\n`);
    return 2;
  }
  if (config.mqtt.url === undefined && !args.dryRun) {
    io.err('spot-gateway replay: mqtt.url is not set: there is no MQTT upstream to replay to\n');
    return 2;
  }
  const fail = (reason: string): number => {
    io.err(`spot-gateway replay: ${reason}\n`);
    return 1;
  };
  let reader: HistoryReader;
  try {
    reader = new HistoryReader(config.data_dir);
  } catch (err) {
    return fail((err as Error).message);
  }
  try {
    let facts: HistoryFacts;
    try {
      facts = reader.facts();
    } catch (err) {
      return fail((err as Error).message);
    }
    const missing = missingPart(facts, args.since, args.until, now());
    if (missing !== null) return fail(missing);
    if (facts.createdAt !== null && args.since < facts.createdAt) {
      io.err(`spot-gateway replay: note: the buffer was created at ${iso(facts.createdAt)} (a new install, or a damaged file moved aside); it holds nothing received before\n`);
    }
    return await replay(reader, facts, args, config, io, fail);
  } finally {
    reader.close();
  }
}

async function replay(reader: HistoryReader, facts: HistoryFacts, args: ReplayArgs, config: GatewayConfig, io: CliIo, fail: (reason: string) => number): Promise<number> {
  const range = { since: args.since, until: args.until, spot: args.spot };
  const what = `events received from ${iso(args.since)} to ${args.untilNow ? 'now' : iso(args.until)}${args.spot === undefined ? '' : ` of spot ${args.spot}`}`;
  let publisher: ReplayPublisher | null = null;
  if (!args.dryRun) {
    try {
      publisher = await ReplayPublisher.connect(config.mqtt.url!, config.mqtt.topic_prefix, facts.instanceId);
    } catch (err) {
      return fail((err as Error).message);
    }
  }
  const topics = new Topics(config.mqtt.topic_prefix);
  const bySpot = new Map<string, SpotTally>();
  let skipped = 0;
  let total = 0;
  try {
    for (let after = 0; ; ) {
      const page = reader.page(range, after, 1000);
      if (page.length === 0) break;
      for (const event of page) {
        const topic = topics.eventJsonChecked(event.spot, event.resource, event.action);
        if (topic === null) {
          skipped++;
          continue;
        }
        if (publisher) await publisher.send(event, topic);
        total++;
        const tally = bySpot.get(event.spot);
        if (tally) {
          tally.count++;
          tally.last = event.id;
        } else bySpot.set(event.spot, { count: 1, first: event.id, last: event.id });
      }
      after = page[page.length - 1]!.id;
    }
    await publisher?.drain();
  } catch (err) {
    return fail(`${(err as Error).message}; ${publisher?.acked ?? 0} of the ${what} were acknowledged before it`);
  } finally {
    await publisher?.end();
  }
  const ids = [...bySpot.values()];
  const first = Math.min(...ids.map((s) => s.first));
  const last = Math.max(...ids.map((s) => s.last));
  const verb = args.dryRun ? 'would send' : `sent to ${config.mqtt.url ?? ''}`;
  io.out(`replay: ${verb} ${total} ${what}${total > 0 ? `, ids ${first}..${last}` : ''}${args.dryRun ? '' : ', every one acknowledged'}\n`);
  for (const [spot, s] of [...bySpot].sort((a, b) => a[1].first - b[1].first)) io.out(`  spot ${spot}: ${s.count} events, ids ${s.first}..${s.last}\n`);
  if (skipped > 0) io.out(`skipped ${skipped} events whose serial, resource or action cannot be a topic level (the gateway does not forward them either)\n`);
  return 0;
}
