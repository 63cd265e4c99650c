// Runs the spot firmware's Linux builds (native, or armhf under qemu-arm) as child processes for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, tempDir, within } from '../helpers/gateway.js';

/** SPOT_FIRMWARE_BUILD runs the tests against another build (e.g. an older firmware, to see a test catch its bug). */
export const FIRMWARE_BUILD = process.env.SPOT_FIRMWARE_BUILD ?? path.join(REPO_ROOT, 'firmware/build');

export type LinuxTarget = 'host' | 'arm-linux';

export interface SpotOptions {
  target: LinuxTarget;
  serial: number;
  /** HOST:PORT of the brain (the gateway). */
  brain?: string;
  encoding?: 'json' | 'pb';
  /** Scenario text (written to a temp file); undefined = the built-in scenario. */
  scenario?: string;
  runSeconds?: number;
  stateDir?: string;
  telnetPort?: number;
  extraArgs?: string[];
}

export interface SpotProcess {
  child: ChildProcess;
  /** Exit code, or the signal name. */
  exited: Promise<number | string>;
  /** What the spot printed on stderr (its console). */
  console(): string;
  kill(): Promise<number | string>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export function firmwareBinary(target: LinuxTarget | 'mps2'): string {
  const file = target === 'mps2' ? path.join(FIRMWARE_BUILD, 'mps2/spot.elf') : path.join(FIRMWARE_BUILD, target, 'spot');
  if (!existsSync(file)) throw new Error(`${file} is not built: run \`make firmware\` first`);
  return file;
}

/** Starts one spot; SIGKILLed at teardown if still running. */
export function startSpot(t: Teardown, options: SpotOptions): SpotProcess {
  const binary = firmwareBinary(options.target);
  const args = ['--serial', String(options.serial), '--encoding', options.encoding ?? 'json'];
  if (options.brain) args.push('--brain', options.brain);
  else args.push('--no-http');
  if (options.scenario !== undefined) {
    const file = path.join(tempDir(t, 'spot-scenario-'), 'scenario.txt');
    writeFileSync(file, options.scenario);
    args.push('--scenario', file);
  }
  if (options.runSeconds !== undefined) args.push('--run-seconds', String(options.runSeconds));
  if (options.stateDir) args.push('--state-dir', options.stateDir);
  if (options.telnetPort !== undefined) args.push('--telnet-port', String(options.telnetPort));
  args.push(...(options.extraArgs ?? []));
  const [command, argv] = options.target === 'arm-linux' ? ['qemu-arm', [binary, ...args]] : [binary, args];
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    exited,
    console: () => text,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return within(exited, 10000, 'the spot to exit after SIGTERM');
    },
  };
}
