// Log lines for a person at a terminal: time, level, part, message, then the other fields as key=value.
// Under systemd (stdout a pipe to journald) the gateway writes pino's JSON lines instead (log.ts).
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, or that the prefix shows already. */
const SHOWN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'part']);

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** One JSON log line as text; a line that is not JSON is passed on unchanged. */
export function prettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '--:--:--.---';
  const level = LEVELS[entry.level as number] ?? String(entry.level);
  const part = typeof entry.part === 'string' ? ` [${entry.part}]` : '';
  const rest = Object.entries(entry)
    .filter(([key]) => !SHOWN.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  return `${time} ${level.padEnd(5)}${part} ${typeof entry.msg === 'string' ? entry.msg : ''}${rest.length > 0 ? `  ${rest.join(' ')}` : ''}\n`;
}

/** A pino destination writing pretty lines to `out` (stdout). */
export function prettyDestination(out: { write(text: string): unknown }): DestinationStream {
  return { write: (line: string) => void out.write(prettyLine(line)) };
}
