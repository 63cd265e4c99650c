// The benchmark's C tools (loadgen.c, latency-consumer.c; `make bench-tools` builds them into
// test/bench/build/) as seen from TypeScript. The load generator runs N spots posting chunked JSON
// event streams, as real spots do; events of posts answered 200 are acknowledged, i.e. stored.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface LoadOptions {
  host: string;
  port: number;
  spots: number;
  durationMs: number;
  /** Total events per second across all spots; 0 = as fast as the server takes. */
  rate: number;
  postWindowMs: number;
  /** A post also ends once it holds this many events (0 or absent: only the window ends it). */
  postEvents?: number;
  firstSerial: number;
  /** Adds "bench_t" (ms, fractional) to each event so a consumer can measure latency. */
  stampEvents: boolean;
  /** Percent of the spots (spread evenly) that pretty-print their events as the vendor's spots do; 0 or absent: none. */
  prettyShare?: number;
}

export interface LoadResult {
  sentEvents: number;
  ackedEvents: number;
  failedPosts: number;
  elapsedMs: number;
}

/** Path of a built tool; throws with the remedy when it has not been built. */
export function benchTool(name: 'loadgen' | 'latency-consumer'): string {
  const file = fileURLToPath(new URL(`../build/${name}`, import.meta.url));
  if (!existsSync(file)) throw new Error(`${file} not found: build it with \`make bench-tools\``);
  return file;
}

export function loadArguments(opts: LoadOptions): string[] {
  const args = ['--host', opts.host, '--port', String(opts.port), '--spots', String(opts.spots), '--seconds', String(opts.durationMs / 1000)];
  args.push('--rate', String(opts.rate), '--window-ms', String(opts.postWindowMs), '--first-serial', String(opts.firstSerial));
  if (opts.postEvents) args.push('--post-events', String(opts.postEvents));
  if (opts.prettyShare) args.push('--pretty-share', String(opts.prettyShare));
  return opts.stampEvents ? [...args, '--stamp'] : args;
}

export interface ToolRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  /** Killed (SIGKILL) after this long: a backstop, the tools bound their own waits. */
  timeoutMs: number;
  /** Also copy its stderr to ours as it comes. */
  echoStderr?: boolean;
  /** Sees all of its stdout so far, on every piece. */
  onStdout?: (stdout: string) => void;
}

/** Starts a built tool; `done` resolves when it has exited, with what it printed. */
export function startBenchTool(name: 'loadgen' | 'latency-consumer', args: string[], options: ToolOptions): { done: Promise<ToolRun>; kill(): void } {
  const child = spawn(benchTool(name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    options.onStdout?.(stdout);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (options.echoStderr) process.stderr.write(d);
  });
  const backstop = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const done = new Promise<ToolRun>((resolve) => {
    child.once('error', (e) => {
      clearTimeout(backstop);
      resolve({ code: null, signal: null, stdout, stderr: `${name} could not start: ${e.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(backstop);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { done, kill: () => child.kill('SIGKILL') };
}

/** Runs the C load generator to its end; its report (achieved events/s) goes to stderr when `echo`. */
export async function runLoad(opts: LoadOptions, { echo = true } = {}): Promise<LoadResult> {
  // The tool bounds itself (the run, then at most 15 s for the last answers).
  const run = await startBenchTool('loadgen', loadArguments(opts), { timeoutMs: opts.durationMs + 60_000, echoStderr: echo }).done;
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.code !== 0 || !line.startsWith('{')) {
    throw new Error(`loadgen failed (${run.signal ?? `exit code ${run.code}`}): ${run.stderr.trim() || '(no message)'}`);
  }
  return JSON.parse(line) as LoadResult;
}
