// Flash jobs (docs/firmware-store.md): one flashImage() run per job, one job per serial port at a
// time, progress kept for GET /api/flash/:id, a bounded history of finished jobs in memory.
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { exitCodeOf } from '../firmware/image-failures.js';
import { SmpClient } from '../smp/client.js';
import { FLASH_EXIT_CODES } from '../smp/flash-failures.js';
import { flashImage, type FlashEvent, type FlashMode, type FlashResult } from '../smp/flasher.js';
import type { PortOpener } from '../smp/serial-port.js';
import type { ReadResult } from './image-store.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed';

export interface JobRequest {
  port: string;
  /** The stored image's hash. */
  image: string;
  mode: FlashMode;
  baudRate: number;
  /** One SMP try's wait for an answer, and the tries per request. */
  timeoutMs: number;
  tries: number;
  bootWaitMs: number;
}

export type JobOutcome =
  | { ok: true; version: string; booted: boolean; confirmed: boolean; resumedFrom: number }
  /**
   * reason: the flasher's (the name of the `spot-gateway flash` exit code it has), or without a code
   * `interrupted` (the gateway stopped) or `internal-error` (a fault of the gateway, in detail).
   */
  | { ok: false; reason: string; exitCode: number | null; detail: string };

export interface FlashJob {
  id: string;
  port: string;
  image: { hash: string; version: string };
  mode: FlashMode;
  state: JobState;
  /** The flasher's last step (its event kind), `opening` before the port is open. */
  step: string;
  /** The offset the device holds, of total bytes. */
  offset: number;
  total: number;
  /** Bytes this job sent (not those the device held already). */
  sent: number;
  resumedFrom: number | null;
  bytesPerSecond: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  outcome: JobOutcome | null;
}

export interface FlashJobsOptions {
  readImage: (hash: string) => ReadResult;
  open: PortOpener;
  now: () => number;
  /** Finished jobs kept for GET; the oldest go first. Default 100. */
  keepFinished?: number;
  /** How long stop() waits for a running job to end once its port is closed. Default 2000 ms. */
  stopWaitMs?: number;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export type StartResult = { ok: true; job: FlashJob } | { ok: false; status: 404 | 409 | 422; reason: string };

interface Running {
  job: FlashJob;
  lockKey: string;
  client: SmpClient | null;
  interrupted: boolean;
  done: Promise<void>;
}

/** One device behind two names (a by-id link and its tty) is one port. */
function lockKeyOf(port: string): string {
  try {
    return realpathSync(port);
  } catch {
    return port;
  }
}

export class FlashJobs {
  private readonly jobs = new Map<string, FlashJob>();
  private readonly active = new Map<string, Running>();
  private readonly outcomes = new Map<string, number>();
  private stopped = false;
  /** When a job's first progress report came, and what it had sent then: its rate counts from there. */
  private readonly uploadStart = new WeakMap<FlashJob, { at: number; sent: number }>();

  constructor(private readonly options: FlashJobsOptions) {}

  /** Checks the image again, takes the port, and runs the job; a second job on a busy port is 409. */
  start(request: JobRequest): StartResult {
    if (this.stopped) return { ok: false, status: 409, reason: 'the gateway is stopping' };
    const lockKey = lockKeyOf(request.port);
    const busy = this.active.get(lockKey);
    if (busy) return { ok: false, status: 409, reason: `port ${request.port} is busy with flash job ${busy.job.id} (${busy.job.state}, ${busy.job.step})` };
    const read = this.options.readImage(request.image);
    if (!read.ok) return read.status === 404 ? read : { ok: false, status: 422, reason: `stored image ${request.image} is refused: ${read.refusal.reason}: ${read.refusal.detail}` };
    const job: FlashJob = {
      id: randomUUID(),
      port: request.port,
      image: { hash: read.image.hash, version: read.image.version },
      mode: request.mode,
      state: 'queued',
      step: 'queued',
      offset: 0,
      total: read.image.size,
      sent: 0,
      resumedFrom: null,
      bytesPerSecond: 0,
      createdAt: this.options.now(),
      startedAt: null,
      finishedAt: null,
      outcome: null,
    };
    this.jobs.set(job.id, job);
    const running: Running = { job, lockKey, client: null, interrupted: false, done: Promise.resolve() };
    this.active.set(lockKey, running);
    running.done = this.run(running, request, read).catch((err: unknown) => {
      this.finish(running, { ok: false, reason: 'internal-error', exitCode: null, detail: `the flash job failed: ${String(err)}` });
    });
    return { ok: true, job };
  }

  get(id: string): FlashJob | undefined {
    return this.jobs.get(id);
  }

  /** Newest first. */
  list(): FlashJob[] {
    return [...this.jobs.values()].reverse();
  }

  /** Jobs queued or running. */
  running(): FlashJob[] {
    return [...this.active.values()].map((r) => r.job);
  }

  /** Finished jobs since start by outcome: `done` or the failure's reason. */
  outcomeCounts(): ReadonlyMap<string, number> {
    return this.outcomes;
  }

  /**
   * Stops taking jobs and ends the running ones: their SMP client is closed (the request under way
   * fails at once), the port closed; each ends `failed`, reason `interrupted`. The device keeps what
   * it received: a new job resumes the upload from its offset.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const running = [...this.active.values()];
    for (const r of running) {
      r.interrupted = true;
      r.client?.close();
    }
    const waitMs = this.options.stopWaitMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([Promise.all(running.map((r) => r.done)), bound]);
    clearTimeout(timer);
    for (const r of running) if (r.job.outcome === null) this.finish(r, this.interruption(r.job));
  }

  private async run(running: Running, request: JobRequest, read: Extract<ReadResult, { ok: true }>): Promise<void> {
    const { job } = running;
    await Promise.resolve();
    job.state = 'running';
    job.step = 'opening';
    job.startedAt = this.options.now();
    this.options.logger.info({ job: job.id, port: job.port, image: job.image.hash, version: job.image.version, mode: job.mode }, `flash job ${job.id}: ${job.image.version} to ${job.port}`);
    const opened = await this.options.open(request.port, request.baudRate);
    if (!opened.ok) {
      this.finish(running, { ok: false, reason: 'port-unavailable', exitCode: FLASH_EXIT_CODES['port-unavailable'], detail: opened.reason });
      return;
    }
    const client = new SmpClient(opened.opened.port, { timeoutMs: request.timeoutMs, tries: request.tries });
    running.client = client;
    let result: FlashResult;
    try {
      if (running.interrupted) client.close();
      result = await flashImage(client, read.checked.image.bytes.subarray(0, read.checked.image.end), read.checked.verify, {
        mode: request.mode,
        bootWaitMs: request.bootWaitMs,
        onEvent: (event) => this.progress(job, event),
      });
    } finally {
      client.close();
      await opened.opened.close();
    }
    this.finish(running, running.interrupted ? this.interruption(job) : outcomeOf(result));
  }

  private progress(job: FlashJob, event: FlashEvent): void {
    job.step = event.kind;
    if (event.kind === 'progress') {
      const { off, total, sent } = event.progress;
      const now = this.options.now();
      let start = this.uploadStart.get(job);
      if (!start) {
        start = { at: now, sent };
        this.uploadStart.set(job, start);
        job.resumedFrom = off - sent;
      }
      job.step = 'upload';
      job.offset = off;
      job.total = total;
      job.sent = sent;
      const seconds = (now - start.at) / 1000;
      job.bytesPerSecond = seconds > 0 ? Math.round((sent - start.sent) / seconds) : 0;
    } else if (event.kind === 'image') job.total = event.bytes;
    else if (event.kind === 'resumed') job.resumedFrom = event.offset;
  }

  private interruption(job: FlashJob): JobOutcome {
    const at = job.step === 'upload' ? ` during the upload at offset ${job.offset} of ${job.total} (a new job resumes from the device's offset)` : ` at step ${job.step}`;
    return { ok: false, reason: 'interrupted', exitCode: null, detail: `the gateway stopped${at}` };
  }

  private finish(running: Running, outcome: JobOutcome): void {
    const { job } = running;
    if (job.outcome !== null) return;
    job.outcome = outcome;
    job.state = outcome.ok ? 'done' : 'failed';
    job.step = outcome.ok ? 'done' : 'failed';
    job.finishedAt = this.options.now();
    if (this.active.get(running.lockKey) === running) this.active.delete(running.lockKey);
    const key = outcome.ok ? 'done' : outcome.reason;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    this.forgetOld();
    const log = { job: job.id, port: job.port, image: job.image.hash, outcome };
    if (outcome.ok) this.options.logger.info(log, `flash job ${job.id}: ${job.port} runs ${outcome.version}${outcome.confirmed ? ', confirmed' : outcome.booted ? ' on trial' : ' uploaded'}`);
    else this.options.logger.warn(log, `flash job ${job.id} on ${job.port} failed: ${outcome.reason}: ${outcome.detail}`);
  }

  private forgetOld(): void {
    const keep = this.options.keepFinished ?? 100;
    const finished = [...this.jobs.values()].filter((j) => j.outcome !== null);
    for (const old of finished.slice(0, Math.max(0, finished.length - keep))) this.jobs.delete(old.id);
  }
}

function outcomeOf(result: FlashResult): JobOutcome {
  if (result.ok) return { ok: true, version: result.version, booted: result.booted, confirmed: result.confirmed, resumedFrom: result.resumedFrom };
  if ('imageRefused' in result) return { ok: false, reason: result.reason, exitCode: exitCodeOf(result.reason), detail: result.detail };
  return { ok: false, reason: result.reason, exitCode: FLASH_EXIT_CODES[result.reason], detail: result.detail };
}
