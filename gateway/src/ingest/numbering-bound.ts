// How far one unauthenticated post may move a spot's numbering (auth.numbering_max_ahead; docs/security.md).
import type { PostNumbering } from './headers.js';

export interface StoredNumbering {
  boot: number;
  highSeq: number;
}

/**
 * Null when `(boot, seq)` is within `maxAhead` of what is known of the spot, else the reason. In the
 * known boot a seq may be at most highSeq + maxAhead; in any other boot (a fresh count starts at 1) at
 * most maxAhead. Nothing known (a new or forgotten spot) or maxAhead 0: no bound.
 */
export function beyondBound(known: StoredNumbering | null, at: PostNumbering, maxAhead: number): string | null {
  if (known === null || maxAhead <= 0) return null;
  if (at.boot === known.boot) {
    if (at.seq <= known.highSeq + maxAhead) return null;
    return `numbering boot ${at.boot} seq ${at.seq} is more than auth.numbering_max_ahead (${maxAhead}) ahead of the stored seq ${known.highSeq} of boot ${known.boot}`;
  }
  if (at.seq <= maxAhead) return null;
  return `numbering boot ${at.boot} seq ${at.seq}: a boot other than the stored ${known.boot} starts a fresh count, and seq is more than auth.numbering_max_ahead (${maxAhead})`;
}

/**
 * The bound over one post's frames that carry their own numbering: what is known moves with each frame
 * accepted, so a run of consecutive frames passes and a jump does not.
 */
export class PostNumberingBound {
  private known: StoredNumbering | null;

  constructor(
    stored: StoredNumbering | null,
    private readonly maxAhead: number,
  ) {
    this.known = stored;
  }

  /** Null and the frame's numbering becomes the known one, or the reason it is beyond the bound. */
  admit(at: PostNumbering): string | null {
    const reason = beyondBound(this.known, at, this.maxAhead);
    if (reason) return reason;
    if (this.known === null) return null;
    this.known = at.boot === this.known.boot ? { boot: at.boot, highSeq: Math.max(this.known.highSeq, at.seq) } : { boot: at.boot, highSeq: at.seq };
    return null;
  }
}
