// How `spot-gateway flash` reports what it does: a progress bar on a terminal, one line per 10 %
// otherwise, or one JSON object per event with --json.
import type { FlashEvent } from '../smp/flasher.js';

export interface ProgressSink {
  out(text: string): void;
  err(text: string): void;
}

export function flashReporter(sink: ProgressSink, style: 'tty' | 'lines' | 'json', now: () => number = Date.now): (event: FlashEvent) => void {
  let started: number | null = null;
  let startOff = 0;
  let lastTenth = -1;
  return (event) => {
    if (style === 'json') {
      sink.out(`${JSON.stringify(event.kind === 'progress' ? { kind: 'progress', ...event.progress } : event)}\n`);
      return;
    }
    if (event.kind !== 'progress') {
      if (style === 'tty' && lastTenth >= 0 && lastTenth < 10) sink.err('\n');
      const line = describe(event);
      if (line) sink.err(`${line}\n`);
      return;
    }
    const { off, total } = event.progress;
    // The rate counts from the first report: bytes the device held already, or sent before it, do not count.
    if (started === null) {
      started = now();
      startOff = off;
    }
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = (off - startOff) / seconds;
    const left = rate > 0 ? (total - off) / rate : 0;
    const percent = Math.floor((off / total) * 100);
    const stats = `${off}/${total} bytes ${percent}% ${Math.round(rate)} B/s ${Math.ceil(left)} s left`;
    if (style === 'tty') {
      const width = 30;
      const filled = Math.round((off / total) * width);
      sink.err(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}`);
      if (off === total) sink.err('\n');
      lastTenth = Math.floor(percent / 10);
      return;
    }
    const tenth = Math.floor(percent / 10);
    if (tenth > lastTenth) {
      lastTenth = tenth;
      sink.err(`upload ${stats}\n`);
    }
  };
}

function describe(event: Exclude<FlashEvent, { kind: 'progress' }>): string {
  switch (event.kind) {
    case 'image':
      return `image ${event.version}, ${event.bytes} bytes, hash ${event.hash}: good`;
    case 'params':
      return event.bufSize === null
        ? `device: no mcumgr params; ${event.chunk}-byte chunks`
        : `device: SMP buffer ${event.bufSize} bytes; ${event.chunk}-byte chunks`;
    case 'already-running':
      return `the device already runs ${event.version}`;
    case 'resumed':
      return `resuming the upload at offset ${event.offset} of ${event.total} (the device holds that much already)`;
    case 'verified':
      return `slot ${event.slot} holds the image (hash verified)`;
    case 'marked':
      return event.permanent ? 'marked permanent' : 'marked for a test boot';
    case 'reset':
      return 'reset; waiting for the new image to report itself';
    case 'booted':
      return `the device runs ${event.version}`;
    case 'confirmed':
      return `${event.version} confirmed`;
  }
}
