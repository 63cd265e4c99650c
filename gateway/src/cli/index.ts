// The command line: `spot-gateway run|config check [--config PATH]`, `image ...`, `--version`, `--help` everywhere.
import { parseArgs } from 'node:util';
import { loadConfig, type GatewayConfig } from '../config/index.js';
import { redactedConfig } from '../config/redact.js';
import { createLogger } from '../log.js';
import { runApiKeyCli, runTokenCli, runUserCli } from './auth.js';
import { packageVersion } from '../version.js';
import { tuneHeap } from './heap.js';
import { opsConfig } from './ops-options.js';
import { runImageCli } from './image.js';
import { runReplayCli } from './replay.js';
import { runService } from './service.js';
import { runFlashCli, runPortsCli, runSmpCli } from './smp.js';

const MAIN_HELP = `spot-gateway: on-site gateway for RFID/Bluetooth spots

Usage:
  spot-gateway run [--config PATH]           start the gateway
  spot-gateway config check [--config PATH]  validate the configuration and print it
  spot-gateway image keygen|sign|verify|info firmware images: keys, signing, checks
  spot-gateway flash --port PATH --pub KEY IMAGE  update a spot over its serial port (SMP)
  spot-gateway smp echo|list|params|info|reset|recover --port PATH  SMP on the bench, serial recovery
  spot-gateway ports                         the serial ports
  spot-gateway tap HOST[:PORT] [--ingest]    print a spot's telnet stream, or feed it to the gateway
  spot-gateway replay --upstream mqtt --since TIME  re-send the buffer's history
  spot-gateway token create|list|revoke      spot tokens (auth.spots: token)
  spot-gateway user add|remove|list          users of the API and the dashboard
  spot-gateway apikey create|list|revoke     API keys for programs
  spot-gateway status [--url URL] [--json]   the running gateway's health and figures
  spot-gateway backup FILE                   copy the running gateway's database
  spot-gateway restore FILE                  put a backup in place (gateway stopped)
  spot-gateway doctor                        check this machine for what the gateway needs
  spot-gateway <command> --help              help on a command
  spot-gateway --version                     print the version

Configuration: --config PATH, else ./gateway.yaml when present, else the defaults;
every key can be overridden by SPOT_GATEWAY_<SECTION>_<KEY> (docs/configuration.md).
`;

const RUN_HELP = `Usage: spot-gateway run [--config PATH]

Starts the gateway: HTTP ingest and API (default :8080), SQLite buffer (default
./data), MQTT upstream when mqtt.url is set. SIGTERM/SIGINT stop it cleanly:
open spot posts get 2 s to end and be answered; a second signal exits at once.
SIGHUP reads the configuration again and applies the keys that can change
while running (log.level, limits, thresholds, the MQTT upstream's keys; the
others are named as needing a restart), and reads the TLS certificate and key
again (docs/tls.md). Under systemd (NOTIFY_SOCKET set) it reports READY, STATUS, WATCHDOG,
RELOADING and STOPPING (docs/operations.md).

Options:
  -c, --config PATH  YAML configuration file (default ./gateway.yaml if present)
  -h, --help         this help
`;

const CONFIG_HELP = `Usage: spot-gateway config check [--config PATH]

Loads the configuration as \`run\` would (file, environment, defaults), prints
the result as JSON and exits 0, or prints the key and the reason and exits 2.

Options:
  -c, --config PATH  YAML configuration file (default ./gateway.yaml if present)
  -h, --help         this help
`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Progress may redraw one line (a terminal on stderr). */
  tty?: boolean;
  /** Standard input, read to its end (a password for `user add`). */
  stdin?: () => Promise<string>;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  tty: process.stderr.isTTY === true,
  stdin: readStdin,
};

/** Up to the first line end (a terminal) or the end of input (a pipe). */
function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (): void => {
      process.stdin.off('data', onData);
      process.stdin.pause();
      resolve(text);
    };
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) done();
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', done);
    process.stdin.once('error', reject);
  });
}

type Parsed = { help: boolean; version: boolean; config?: string; positionals: string[] };

function parse(args: string[]): Parsed | string {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, config: { type: 'string', short: 'c' } },
    });
    return { help: values.help ?? false, version: values.version ?? false, config: values.config, positionals };
  } catch (err) {
    return (err as Error).message;
  }
}

/** Runs the CLI; resolves with the exit code (run: only once the gateway has stopped). */
export async function runCli(args: string[], io: CliIo = processIo): Promise<number> {
  // The image commands have options of their own.
  if (args[0] === 'image') return runImageCli(args.slice(1), io);
  if (args[0] === 'smp') return runSmpCli(args.slice(1), io);
  if (args[0] === 'flash') return runFlashCli(args.slice(1), io);
  if (args[0] === 'ports') return runPortsCli(args.slice(1), io);
  if (args[0] === 'replay') return runReplayCli(args.slice(1), io);
  if (args[0] === 'token') return runTokenCli(args.slice(1), io);
  if (args[0] === 'user') return runUserCli(args.slice(1), io);
  if (args[0] === 'apikey') return runApiKeyCli(args.slice(1), io);
  // The operations commands load their modules (SQLite among them) only when asked for.
  if (args[0] === 'status') return (await import('./status.js')).runStatusCli(args.slice(1), io);
  if (args[0] === 'backup') return (await import('./backup.js')).runBackupCli(args.slice(1), io);
  if (args[0] === 'restore') return (await import('./backup.js')).runRestoreCli(args.slice(1), io);
  if (args[0] === 'tap') return (await import('./tap/index.js')).runTapCli(args.slice(1), io);
  if (args[0] === 'doctor') return (await import('./doctor.js')).runDoctorCli(args.slice(1), io);
  const parsed = parse(args);
  if (typeof parsed === 'string') {
    io.err(`spot-gateway: ${parsed}\n\n${MAIN_HELP}`);
    return 2;
  }
  const [command, sub] = parsed.positionals;
  if (parsed.version && !parsed.help) {
    io.out(`spot-gateway ${packageVersion()}\n`);
    return 0;
  }
  if (command === undefined) {
    (parsed.help ? io.out : io.err)(MAIN_HELP);
    return parsed.help ? 0 : 2;
  }
  if (command === 'help') {
    io.out(MAIN_HELP);
    return 0;
  }
  if (command === 'run') {
    if (parsed.help) {
      io.out(RUN_HELP);
      return 0;
    }
    const config = opsConfig(parsed, io);
    if (!config) return 2;
    return runGateway(parsed, io, config);
  }
  if (command === 'config') {
    if (parsed.help || sub === undefined) {
      (parsed.help ? io.out : io.err)(CONFIG_HELP);
      return parsed.help ? 0 : 2;
    }
    if (sub !== 'check') {
      io.err(`spot-gateway: unknown command "config ${sub}"\n\n${CONFIG_HELP}`);
      return 2;
    }
    const config = opsConfig(parsed, io);
    if (!config) return 2;
    io.out(`${JSON.stringify(redactedConfig(config), null, 2)}\n`);
    return 0;
  }
  io.err(`spot-gateway: unknown command "${command}"\n\n${MAIN_HELP}`);
  return 2;
}

async function runGateway(parsed: Parsed, io: CliIo, config: GatewayConfig): Promise<number> {
  // JSON lines for journald and pipes; lines for a person at a terminal.
  const logger = createLogger({ level: config.log.level, pretty: io.out === processIo.out && process.stdout.isTTY === true });
  const heapFlag = tuneHeap();
  if (heapFlag) logger.debug({ v8: heapFlag }, `v8: ${heapFlag} (heap growth bounded; a heap flag of your own in NODE_OPTIONS wins)`);
  return runService({ config, logger, env: io.env, reread: () => loadConfig({ file: parsed.config, env: io.env, cwd: io.cwd }).config });
}
