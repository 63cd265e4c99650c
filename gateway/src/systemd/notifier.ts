// sd_notify: READY, STATUS, WATCHDOG, RELOADING, STOPPING to systemd (docs/operations.md,
// "Running under systemd"). Does nothing when NOTIFY_SOCKET is unset; never throws.
import type { NotifySocket, NotifySocketFactory } from './notify-socket.js';
import { socketAddress } from './notify-socket.js';

export interface NotifierTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface NotifierLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface NotifierOptions {
  /** NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID as systemd set them. */
  env: NodeJS.ProcessEnv;
  pid: number;
  openSocket: NotifySocketFactory;
  /** Why the gateway is not well now (the watchdog is withheld), or null: checked before every WATCHDOG=1. */
  fault: () => string | null;
  /** The STATUS= line. */
  status: () => string;
  /** How often the status line is looked at (sent when it changed); default 5000. */
  statusEveryMs?: number;
  timers?: NotifierTimers;
  /** CLOCK_MONOTONIC in µs, for RELOADING=1 (Node's hrtime is that clock on Linux). */
  monotonicUsec?: () => bigint;
  logger: NotifierLogger;
}

export interface Notifier {
  /** Under systemd with a working socket. */
  readonly active: boolean;
  /** WATCHDOG=1 period (half of WATCHDOG_USEC), or null when systemd asked for no watchdog. */
  readonly watchdogEveryMs: number | null;
  ready(): void;
  reloading(): void;
  stopping(): void;
  close(): void;
}

const realTimers: NotifierTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/** Half of WATCHDOG_USEC in ms, when the watchdog is ours (WATCHDOG_PID unset or this process). */
export function watchdogPeriodMs(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isSafeInteger(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

export function systemdNotifier(options: NotifierOptions): Notifier {
  const { env, logger } = options;
  const inactive: Notifier = { active: false, watchdogEveryMs: null, ready() {}, reloading() {}, stopping() {}, close() {} };
  const notifySocket = env.NOTIFY_SOCKET;
  if (!notifySocket) return inactive;
  const reportedErrors = new Set<string>();
  const opened = options.openSocket(socketAddress(notifySocket), (reason) => {
    if (reportedErrors.has(reason)) return;
    reportedErrors.add(reason);
    logger.warn({ notifySocket, reason }, `systemd: cannot notify ${notifySocket}: ${reason}`);
  });
  if ('unavailable' in opened) {
    logger.warn({ notifySocket, reason: opened.unavailable }, `systemd: NOTIFY_SOCKET is set but ${opened.unavailable}: systemd hears nothing from the gateway`);
    return inactive;
  }
  return new SystemdNotifier(opened, options);
}

class SystemdNotifier implements Notifier {
  readonly active = true;
  readonly watchdogEveryMs: number | null;
  private readonly timers: NotifierTimers;
  private watchdogTimer: unknown = null;
  private statusTimer: unknown = null;
  private withheld: string | null = null;
  private lastStatus: string | null = null;
  /** STATUS= only after the first READY=1, so that READY=1 is the first message. */
  private readied = false;
  private done = false;

  constructor(
    private readonly socket: NotifySocket,
    private readonly o: NotifierOptions,
  ) {
    this.timers = o.timers ?? realTimers;
    this.watchdogEveryMs = watchdogPeriodMs(o.env, o.pid);
    // From the start, not from READY: systemd counts the watchdog from the moment the process runs.
    if (this.watchdogEveryMs !== null) this.watchdogTimer = this.timers.setInterval(() => this.watchdog(), this.watchdogEveryMs);
  }

  ready(): void {
    if (this.done) return;
    this.socket.send('READY=1');
    this.readied = true;
    this.lastStatus = null;
    this.refreshStatus();
    this.statusTimer ??= this.timers.setInterval(() => this.refreshStatus(), this.o.statusEveryMs ?? 5000);
  }

  reloading(): void {
    if (this.done) return;
    const now = (this.o.monotonicUsec ?? (() => process.hrtime.bigint() / 1000n))();
    this.socket.send(`RELOADING=1\nMONOTONIC_USEC=${now}`);
  }

  stopping(): void {
    if (this.done) return;
    this.stopTimers();
    this.socket.send('STOPPING=1');
    this.done = true;
  }

  close(): void {
    this.stopTimers();
    this.done = true;
    this.socket.close();
  }

  private stopTimers(): void {
    if (this.watchdogTimer !== null) this.timers.clearInterval(this.watchdogTimer);
    if (this.statusTimer !== null) this.timers.clearInterval(this.statusTimer);
    this.watchdogTimer = this.statusTimer = null;
  }

  private watchdog(): void {
    let fault: string | null;
    try {
      fault = this.o.fault();
    } catch (err) {
      fault = `the health check failed: ${String(err)}`;
    }
    if (fault === null) {
      this.socket.send('WATCHDOG=1');
      if (this.withheld !== null) {
        this.o.logger.info({ previous: this.withheld }, 'systemd: watchdog resumed');
        this.withheld = null;
        this.refreshStatus();
      }
      return;
    }
    if (this.withheld === null) {
      this.o.logger.warn({ reason: fault }, `systemd: watchdog withheld: ${fault}`);
    }
    this.withheld = fault;
    this.refreshStatus();
  }

  private refreshStatus(): void {
    if (!this.readied || this.done) return;
    let line: string;
    try {
      line = this.o.status();
    } catch (err) {
      line = `status unknown: ${String(err)}`;
    }
    if (this.withheld !== null) line += `; watchdog withheld: ${this.withheld}`;
    // One line: systemctl status shows STATUS= as it is.
    line = line.replace(/[\r\n]+/g, ' ');
    if (line === this.lastStatus) return;
    this.lastStatus = line;
    this.socket.send(`STATUS=${line}`);
  }
}
