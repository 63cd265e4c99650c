// Structured logging (pino): one line per notable thing, never one per event at info.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/schema.js';
import { prettyDestination } from './log-pretty.js';

export type GatewayLogger = Logger;

export interface LoggerOptions {
  level: LogLevel;
  /** Default: stdout. Tests pass a stream to read the lines. */
  destination?: DestinationStream;
  /** Lines for a person (time, level, message, fields) instead of JSON: `run` sets it when stdout is a terminal. */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions): GatewayLogger {
  const base = { level: options.level, base: { name: 'spot-gateway' } };
  if (options.pretty) return pino(base, prettyDestination(options.destination ?? process.stdout));
  return options.destination ? pino(base, options.destination) : pino(base);
}

/** A logger that drops everything (in-process tests that do not look at logs). */
export function silentLogger(): GatewayLogger {
  return pino({ level: 'silent' });
}
