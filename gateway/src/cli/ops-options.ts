// Options shared by the operations commands (status, backup, restore, doctor): --config, --url, --json, --help;
// the configuration and the gateway's address as every command loads them.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type GatewayConfig } from '../config/index.js';
import { gatewayUrl } from './gateway-api.js';
import type { CliIo } from './index.js';

export interface OpsArgs {
  help: boolean;
  json: boolean;
  config?: string;
  url?: string;
  positionals: string[];
}

/** Parsed options, or null after printing the reason and the help (exit 2). */
export function parseOpsArgs(args: string[], help: string, io: CliIo, options: { url?: boolean; json?: boolean } = {}): OpsArgs | null {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        config: { type: 'string', short: 'c' },
        ...(options.url ? { url: { type: 'string' } } : {}),
        ...(options.json ? { json: { type: 'boolean' } } : {}),
      },
    });
    const v = values as { help?: boolean; json?: boolean; config?: string; url?: string };
    return { help: v.help ?? false, json: v.json ?? false, config: v.config, url: v.url, positionals };
  } catch (err) {
    io.err(`spot-gateway: ${(err as Error).message}\n\n${help}`);
    return null;
  }
}

/** The configuration as `run` would load it, or null after printing why (exit 2). */
export function opsConfig(parsed: { config?: string }, io: CliIo): GatewayConfig | null {
  try {
    return loadConfig({ file: parsed.config, env: io.env, cwd: io.cwd }).config;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`spot-gateway: ${err.message}\n`);
      return null;
    }
    throw err;
  }
}

/** The running gateway's API: --url as given, else where the configuration says it listens; null after printing why (exit 2). */
export function gatewayBase(parsed: { url?: string; config?: string }, io: CliIo): string | null {
  if (parsed.url !== undefined) return parsed.url.replace(/\/+$/, '');
  const config = opsConfig(parsed, io);
  return config ? gatewayUrl(config) : null;
}
