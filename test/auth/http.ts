// Requests with headers for the auth tests: a cookie jar of one session, API keys, CSRF tokens.
import { openAuthDb } from '../../gateway/src/auth/auth-db.js';
import { ApiKeys } from '../../gateway/src/auth/api-keys.js';
import { SpotTokens } from '../../gateway/src/auth/spot-tokens.js';
import { Users } from '../../gateway/src/auth/users.js';
import { api, SpotConnection, type RawResponse } from '../helpers/gateway.js';

export interface Answer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export async function request<T = unknown>(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer<T>> {
  // A login waits for its password hash, one at a time per process: seconds on a loaded machine.
  return api<T>(url, '', { ...init, timeoutMs: 30000 });
}

/** Credentials written into <dataDir>/auth.db before (or while) the gateway runs, as the CLI does. */
export async function seedAuth(dataDir: string, seed: { users?: Array<[string, 'viewer' | 'admin', string]>; keys?: Array<[string, 'viewer' | 'admin']>; siteToken?: boolean; spotTokens?: string[] }) {
  const db = openAuthDb(dataDir);
  try {
    for (const [name, role, password] of seed.users ?? []) await new Users(db).add(name, role, password);
    const keys = (seed.keys ?? []).map(([name, role]) => new ApiKeys(db).create(name, role));
    const tokens = new SpotTokens(db);
    const site = seed.siteToken ? tokens.create(null) : null;
    const perSpot = new Map((seed.spotTokens ?? []).map((spot) => [spot, tokens.create(spot)]));
    return { keys, site, perSpot };
  } finally {
    db.close();
  }
}

/** Logs in; returns the cookie header to send back and the CSRF token. */
export async function login(baseUrl: string, user: string, password: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await request(`${baseUrl}/api/auth/login`, { body: { user, password } });
  if (res.status !== 200) throw new Error(`login ${user}: ${res.status} ${JSON.stringify(res.body)}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, csrf: (res.body as { csrf: string }).csrf, setCookie };
}

export function metricValue(text: string, line: string): number | undefined {
  for (const l of text.split('\n')) if (l.startsWith(`${line} `)) return Number(l.slice(line.length + 1));
  return undefined;
}

/**
 * A whole chunked post in one write: a refused post is answered after its headers and the connection
 * closed, so a later write could meet the closed socket.
 */
export async function postOnce(port: number, serial: number, body: string, headers: Record<string, string>): Promise<RawResponse> {
  const text = Buffer.from(body);
  const all = { Host: '127.0.0.1', 'Transfer-Encoding': 'chunked', ...headers };
  const head = [`POST /api/spots/${serial}/events/ HTTP/1.1`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  const conn = new SpotConnection(port);
  try {
    await conn.write(Buffer.concat([Buffer.from(`${head}\r\n\r\n${text.length.toString(16)}\r\n`), text, Buffer.from('\r\n0\r\n\r\n')]));
    return await conn.response();
  } finally {
    conn.close();
  }
}
