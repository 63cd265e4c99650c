// Shared helpers for the store tests: temp data dirs, events, a logger that remembers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { openStore } from '../../gateway/src/store/index.js';
import type { NewEvent, Store, StoreLogger, StoreOptions } from '../../gateway/src/store/types.js';

export { waitFor } from '../helpers/wait.js';

export interface LogLine {
  level: 'info' | 'warn' | 'error' | 'debug';
  obj: object | string;
  msg?: string;
}

export function recordingLogger(): StoreLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (obj: object | string, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

export function tempDir(t: ExecutionContext, prefix = 'spot-store-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a store that the test closes on teardown, even when it fails. */
export function openTestStore(t: ExecutionContext, opts: Partial<StoreOptions> & { dataDir: string }): Store {
  const store = openStore({ logger: recordingLogger(), ...opts });
  t.teardown(() => store.close().catch(() => undefined));
  return store;
}

let counter = 0;

export function event(spot: string, extra: Partial<NewEvent> = {}): NewEvent {
  counter++;
  return {
    spot,
    resource: 'hit',
    action: 'create',
    data: JSON.stringify({ item: `item-${counter}`, antenna: counter % 4, rssi: -40 - (counter % 30) }),
    pb: null,
    encoding: 'json',
    timeReceived: 1_780_000_000_000 + counter,
    boot: null,
    seq: null,
    ...extra,
  };
}

export function events(spot: string, n: number, extra: Partial<NewEvent> = {}): NewEvent[] {
  return Array.from({ length: n }, () => event(spot, extra));
}

export function ids(outcomes: { id: number }[] | unknown[]): number[] {
  return (outcomes as ({ id: number } | { duplicate: true })[]).map((o) => ('id' in o ? o.id : -1));
}
