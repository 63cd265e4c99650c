// Incremental decoder of the JSON spot protocol: finds each message's end by scanning bytes.
import type { DecodedItem, StreamDecoder } from './types.js';
import type { ScanFacts } from './compact-json.js';
import { eventItem, newEvent } from './decoded-item.js';
import { MAX_JSON_DEPTH } from './json-depth.js';
import { MessageBuffer } from './message-buffer.js';
import { RejectRun } from './reject-run.js';
import { isWhitespace } from './sniff.js';
import { cannotBeEvent, isJsonText } from './json-quick.js';
import { parseMessage } from './json-message.js';
import { isUtf8 } from './utf8.js';

export interface JsonDecoderOptions {
  /** Longest accepted message in bytes; longer ones are skipped and rejected. */
  maxMessageBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_SQUARE = 0x5b;
const CLOSE_SQUARE = 0x5d;
const OPEN_CURLY = 0x7b;
const CLOSE_CURLY = 0x7d;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

const enum Mode {
  /** Between messages: skipping whitespace. */
  Between,
  /** Inside a JSON value that started with '['. */
  Value,
  /** Inside a malformed message: skipping to a blank line or a '[' at the start of a line. */
  Skip,
}

function isBlank(b: number): boolean {
  return b === SPACE || b === TAB || b === CR;
}

class JsonStreamDecoder implements StreamDecoder {
  private readonly maxBytes: number;
  private mode = Mode.Between;
  /** Stream offset of the first byte of the chunk being scanned. */
  private chunkOffset = 0;
  private index = 0;
  /** The chunk being scanned and where its bytes not yet given to the message begin. */
  private chunk: Uint8Array = new Uint8Array(0);
  private seg = 0;
  /** Next backslash and line feed in the chunk, found with indexOf (-1: not looked for yet). */
  private backslashAt = -1;
  private lineFeedAt = -1;
  // Value state.
  private depth = 0;
  /** The message nests deeper than MAX_JSON_DEPTH + 1 (the triple's own array is a level). */
  private tooDeep = false;
  private inString = false;
  private escaped = false;
  /** The current line holds only blanks so far (a blank line ends a broken message). */
  private lineBlank = false;
  /** Outside strings so far: the text is as JSON.stringify prints it; colons (keys) seen (compact-json.ts). */
  private readonly facts: ScanFacts = { compact: true, keys: 0 };
  /** Digits in a row just before, outside strings. */
  private digitRun = 0;
  // Skip state.
  private atLineStart = false;
  private skipReason = '';
  /** Offset just past the last non-whitespace byte of the skipped message. */
  private skipEnd = 0;
  /** Once a message over the size limit is kept head only: offset just past its last non-whitespace byte so far. */
  private contentEnd = 0;
  private readonly message = new MessageBuffer();
  /** Malformed messages since the last event: reported as one reject before the next event or at the end. */
  private readonly run = new RejectRun();
  private out: DecodedItem[] = [];

  constructor(options: JsonDecoderOptions) {
    this.maxBytes = options.maxMessageBytes ?? 65536;
  }

  push(chunk: Uint8Array): DecodedItem[] {
    this.out = [];
    this.chunk = chunk;
    this.seg = 0;
    this.backslashAt = -1;
    this.lineFeedAt = -1;
    try {
      this.scan();
      if (this.mode !== Mode.Between) {
        this.take(chunk.length, true);
        if (this.mode === Mode.Value && this.message.length > this.maxBytes) this.keepHeadOnly(chunk);
      }
    } catch (err) {
      // Defensive: a bug here must not take the stream down; report and start afresh.
      this.reject(this.message.start, this.message.length, `decoder error: ${(err as Error).message}`);
      this.mode = Mode.Between;
    }
    this.chunkOffset += chunk.length;
    this.chunk = new Uint8Array(0);
    return this.out;
  }

  end(): DecodedItem[] {
    this.out = [];
    if (this.mode === Mode.Value) {
      this.reject(this.message.start, this.message.length, 'truncated: the stream ended inside a message');
    } else if (this.mode === Mode.Skip) {
      this.finishSkip();
    }
    this.mode = Mode.Between;
    this.run.flush(this.out);
    return this.out;
  }

  /** Gives chunk[seg..to) to the current message. */
  private take(to: number, copy: boolean): void {
    this.message.append(this.chunk, this.seg, to, copy);
    this.seg = to;
  }

  private scan(): void {
    const chunk = this.chunk;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.mode === Mode.Value) {
        i = this.scanValue(i);
      } else if (this.mode === Mode.Skip) {
        i = this.scanSkip(i);
      } else {
        const b = chunk[i]!;
        if (b === SPACE || b === LF || b === TAB || b === CR) {
          i++;
          continue;
        }
        this.seg = i;
        this.message.reset(this.chunkOffset + i);
        if (b === OPEN_SQUARE) {
          this.mode = Mode.Value;
          this.facts.compact = true;
          this.facts.keys = 0;
          this.digitRun = 0;
          this.depth = 1;
          this.tooDeep = false;
          this.inString = false;
          this.escaped = false;
          this.lineBlank = false;
          i++;
        } else {
          this.startSkip('stray bytes between messages: a message must start with "["', false);
        }
      }
    }
  }

  /** Position of the next backslash at or after `from` in this chunk (chunk length if none). */
  private nextBackslash(from: number): number {
    if (this.backslashAt < from) {
      const at = this.chunk.indexOf(BACKSLASH, from);
      this.backslashAt = at < 0 ? this.chunk.length : at;
    }
    return this.backslashAt;
  }

  private nextLineFeed(from: number): number {
    if (this.lineFeedAt < from) {
      const at = this.chunk.indexOf(LF, from);
      this.lineFeedAt = at < 0 ? this.chunk.length : at;
    }
    return this.lineFeedAt;
  }

  /** Scans value bytes from i; returns where scanning stopped (message done or chunk end). */
  private scanValue(i: number): number {
    const chunk = this.chunk;
    const n = chunk.length;
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let lineBlank = this.lineBlank;
    const facts = this.facts;
    let compact = facts.compact;
    let keys = facts.keys;
    let run = this.digitRun;
    for (; i < n; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === QUOTE) inString = false;
        else if (b === BACKSLASH) {
          escaped = true;
          compact = false;
        } else if (b === LF) {
          this.take(i, false);
          this.startSkip('invalid JSON: line break inside a string', true);
          return i + 1;
        }
        continue;
      }
      if (b === QUOTE) {
        lineBlank = false;
        // Fast path: jump to the closing quote when no backslash or line feed comes first.
        const close = chunk.indexOf(QUOTE, i + 1);
        if (close >= 0 && this.nextBackslash(i + 1) > close && this.nextLineFeed(i + 1) > close) {
          i = close;
          continue;
        }
        inString = true;
      } else if (b === OPEN_SQUARE || b === OPEN_CURLY) {
        if (++depth > MAX_JSON_DEPTH + 1) this.tooDeep = true;
        lineBlank = false;
      } else if (b === CLOSE_SQUARE || b === CLOSE_CURLY) {
        lineBlank = false;
        if (--depth === 0) {
          this.mode = Mode.Between;
          facts.compact = compact;
          facts.keys = keys;
          this.take(i + 1, false);
          this.finishValue();
          return i + 1;
        }
      } else if (b === LF) {
        compact = false;
        if (lineBlank) {
          this.mode = Mode.Between;
          const from = this.seg;
          this.take(i, false);
          this.rejectUnterminated(from, i);
          return i + 1;
        }
        lineBlank = true;
      } else if (b !== SPACE && b !== TAB && b !== CR) {
        lineBlank = false;
        // Numbers JSON.stringify prints otherwise: 16 digits or more, -0, a fraction, an exponent.
        if (b >= ZERO && b <= NINE) {
          if (++run > 15 || (b === ZERO && run === 1 && (i === 0 || chunk[i - 1] === MINUS))) compact = false;
        } else {
          if (b === COLON) keys++;
          else if (b === DOT || b === UPPER_E || (b === LOWER_E && run > 0)) compact = false;
          run = 0;
        }
      } else {
        compact = false;
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.lineBlank = lineBlank;
    facts.compact = compact;
    facts.keys = keys;
    this.digitRun = run;
    return n;
  }

  private startSkip(reason: string, atLineStart: boolean): void {
    this.mode = Mode.Skip;
    this.skipReason = reason;
    this.atLineStart = atLineStart;
    this.lineBlank = atLineStart;
    this.skipEnd = this.message.start + this.message.length;
    this.message.keepHeadOnly();
  }

  /** Scans a malformed message from i; returns where it stopped. */
  private scanSkip(i: number): number {
    const chunk = this.chunk;
    const n = chunk.length;
    for (; i < n; i++) {
      const b = chunk[i]!;
      if (b === LF) {
        if (this.lineBlank) {
          this.take(i, false);
          this.finishSkip();
          this.mode = Mode.Between;
          return i + 1;
        }
        this.lineBlank = true;
        this.atLineStart = true;
        continue;
      }
      if (b === OPEN_SQUARE && this.atLineStart) {
        this.take(i, false);
        this.finishSkip();
        this.mode = Mode.Between;
        return i;
      }
      this.atLineStart = false;
      if (!isBlank(b)) {
        this.lineBlank = false;
        this.skipEnd = this.chunkOffset + i + 1;
      }
    }
    return n;
  }

  private finishSkip(): void {
    this.reject(this.message.start, this.skipEnd - this.message.start, this.skipReason);
  }

  /**
   * A message over the size limit keeps only its head from here on; where its content ends so far is
   * noted first, so that its extent does not depend on where the chunks were cut.
   */
  private keepHeadOnly(chunk: Uint8Array): void {
    const msg = this.message;
    if (!msg.headOnly) {
      let length = msg.length;
      while (length > 0 && isWhitespace(msg.byteAt(length - 1))) length--;
      this.contentEnd = msg.start + length;
      msg.keepHeadOnly();
      return;
    }
    let j = chunk.length - 1;
    while (j >= 0 && isWhitespace(chunk[j]!)) j--;
    if (j >= 0) this.contentEnd = this.chunkOffset + j + 1;
  }

  /** The message ends at the blank line found at chunk[at]; chunk[from..at) is its part in this chunk. Its trailing whitespace is not its own. */
  private rejectUnterminated(from: number, at: number): void {
    const msg = this.message;
    let end: number;
    if (msg.headOnly) {
      let j = at - 1;
      while (j >= from && isWhitespace(this.chunk[j]!)) j--;
      end = j >= from ? this.chunkOffset + j + 1 : this.contentEnd;
    } else {
      let length = msg.length;
      while (length > 0 && isWhitespace(msg.byteAt(length - 1))) length--;
      end = msg.start + length;
    }
    this.reject(msg.start, end - msg.start, 'unterminated message: blank line before its closing "]"');
  }

  private finishValue(): void {
    const msg = this.message;
    if (msg.length > this.maxBytes) {
      this.reject(msg.start, msg.length, `over the size limit (${this.maxBytes} bytes)`);
      return;
    }
    if (this.tooDeep) {
      this.reject(msg.start, msg.length, `nested deeper than ${MAX_JSON_DEPTH} levels`);
      return;
    }
    // Inside a run of garbage only the first reason is reported: skip parsing what cannot be an event.
    const skip = this.run.messages > 0 && (cannotBeEvent(msg) || !isJsonText(msg.bytes()) || !isUtf8(msg.bytes(), 0, msg.keptLength));
    const parsed = skip ? '' : parseMessage(msg.bytes(), this.facts);
    if (typeof parsed === 'string') {
      this.reject(msg.start, msg.length, parsed);
      return;
    }
    this.run.flush(this.out);
    this.out.push(eventItem(newEvent(parsed.resource, parsed.action, parsed.data, msg.start, this.index++, parsed.dataJson)));
  }

  private reject(offset: number, length: number, reason: string): void {
    const run = this.run;
    run.add(offset, length, this.index++, reason);
    if (run.room === 0) return;
    const kept = this.message.bytes();
    run.addRaw(kept, 0, Math.min(length, kept.length));
  }
}

/** A decoder for one JSON-encoded stream (one HTTP body, one telnet session). */
export function createJsonDecoder(options: JsonDecoderOptions = {}): StreamDecoder {
  return new JsonStreamDecoder(options);
}
