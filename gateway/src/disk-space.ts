// How full the data directory's filesystem is: fs.statfs, read at most every few seconds,
// and the warning /healthz, /api/status, /metrics and the dashboard show above a threshold.
import fs from 'node:fs';

export interface DiskReading {
  /** The directory measured (data_dir). */
  path: string;
  totalBytes: number;
  /** Free to the gateway's user (the blocks reserved for root are not counted). */
  availableBytes: number;
  /** Used / (used + available), as `df` shows it: 0..1. */
  usedRatio: number;
  warnPercent: number;
  /** usedRatio above warnPercent. */
  warning: boolean;
  /** Why the filesystem could not be read; the figures are then 0. */
  error: string | null;
}

export interface DiskSpaceOptions {
  dir: string;
  warnPercent: number;
  now: () => number;
  /** A reading older than this is taken again when asked for (default 5 s). */
  refreshMs?: number;
  statfs?: (dir: string) => fs.StatsFs;
}

export const DISK_REFRESH_MS = 5000;

/** The used ratio the way `df` computes its Use%: blocks taken by anyone over those a user can have. */
export function usedRatioOf(stats: Pick<fs.StatsFs, 'blocks' | 'bfree' | 'bavail'>): number {
  const used = stats.blocks - stats.bfree;
  const usable = used + stats.bavail;
  return usable > 0 ? used / usable : 0;
}

export class DiskSpace {
  private last: DiskReading | null = null;
  private readAt = 0;
  private warnPercent: number;
  private readonly refreshMs: number;
  private readonly statfs: (dir: string) => fs.StatsFs;

  constructor(private readonly options: DiskSpaceOptions) {
    this.warnPercent = options.warnPercent;
    this.refreshMs = options.refreshMs ?? DISK_REFRESH_MS;
    this.statfs = options.statfs ?? ((dir) => fs.statfsSync(dir));
  }

  /** buffer.disk_warn_percent changed (SIGHUP): applies to the next reading and to the one held. */
  setWarnPercent(percent: number): void {
    this.warnPercent = percent;
    if (this.last) this.last = { ...this.last, warnPercent: percent, warning: this.last.error === null && this.last.usedRatio * 100 > percent };
  }

  reading(): DiskReading {
    const now = this.options.now();
    if (this.last && now - this.readAt < this.refreshMs) return this.last;
    this.readAt = now;
    const dir = this.options.dir;
    try {
      const s = this.statfs(dir);
      const usedRatio = usedRatioOf(s);
      this.last = {
        path: dir,
        totalBytes: s.blocks * s.bsize,
        availableBytes: s.bavail * s.bsize,
        usedRatio,
        warnPercent: this.warnPercent,
        warning: usedRatio * 100 > this.warnPercent,
        error: null,
      };
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? String(err);
      this.last = { path: dir, totalBytes: 0, availableBytes: 0, usedRatio: 0, warnPercent: this.warnPercent, warning: false, error: reason };
    }
    return this.last;
  }

  /** A /healthz reason when the filesystem is above the threshold or cannot be read; null otherwise. */
  problem(): string | null {
    const r = this.reading();
    if (r.error !== null) return `data filesystem of ${r.path} cannot be measured (${r.error})`;
    if (!r.warning) return null;
    return `data filesystem of ${r.path} is ${percentText(r.usedRatio)} full (above buffer.disk_warn_percent ${r.warnPercent} %): ${mib(r.availableBytes)} free of ${mib(r.totalBytes)}`;
  }
}

/** 0.9345 -> "93.5 %". */
export function percentText(ratio: number): string {
  return `${(Math.round(ratio * 1000) / 10).toFixed(1)} %`;
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1048576)} MiB`;
}
