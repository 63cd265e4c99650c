// Requests refused before anything of them is acted on (docs/limits.md): node's HTTP parser (400, 414,
// 431), a request target over the gateway's bound (414), a spot post with a Content-Encoding (415).
// Counted per kind for /metrics; logged at most once a minute per kind, so a flood of garbage is a line, not a flood.

export type RefusalReason = 'malformed' | 'target_too_long' | 'head_too_large' | 'content_encoding';

/** Every kind with its status, in the order /metrics lists them; each is exported from the start, at 0. */
export const REFUSAL_KINDS: ReadonlyArray<{ status: number; reason: RefusalReason }> = [
  { status: 400, reason: 'malformed' },
  { status: 414, reason: 'target_too_long' },
  { status: 431, reason: 'head_too_large' },
  { status: 415, reason: 'content_encoding' },
];

/** Log lines per kind at most once in this time; the refusals in between are counted in the next line. */
export const REFUSAL_LOG_EVERY_MS = 60_000;

export interface RefusalLogger {
  warn(obj: object, msg: string): void;
}

interface Kind {
  status: number;
  count: number;
  /** When the last line of this kind was logged; null: none yet. */
  loggedAt: number | null;
  /** Refusals of this kind since that line, not logged. */
  unlogged: number;
}

export class RequestRefusals {
  private readonly kinds = new Map<RefusalReason, Kind>();

  constructor(
    private readonly logger: RefusalLogger,
    private readonly now: () => number = Date.now,
    private readonly logEveryMs = REFUSAL_LOG_EVERY_MS,
  ) {
    for (const { status, reason } of REFUSAL_KINDS) this.kinds.set(reason, { status, count: 0, loggedAt: null, unlogged: 0 });
  }

  /** One refusal of `reason`; `detail` is the reason the client was given, `address` its peer's. */
  refused(reason: RefusalReason, detail: string, address: string | undefined): void {
    const kind = this.kinds.get(reason)!;
    kind.count++;
    const now = this.now();
    if (kind.loggedAt !== null && now - kind.loggedAt < this.logEveryMs) {
      kind.unlogged++;
      return;
    }
    const from = address ?? 'an unknown address';
    const more = kind.unlogged > 0 ? ` (${kind.unlogged} more refused ${kind.status} since the last such line, not logged)` : '';
    this.logger.warn({ status: kind.status, reason, address, unlogged: kind.unlogged }, `http: ${kind.status} to ${from}: ${detail}${more}`);
    kind.loggedAt = now;
    kind.unlogged = 0;
  }

  /** Refusals since start, per kind. */
  counts(): Array<{ status: number; reason: RefusalReason; count: number }> {
    return REFUSAL_KINDS.map(({ status, reason }) => ({ status, reason, count: this.kinds.get(reason)!.count }));
  }
}
