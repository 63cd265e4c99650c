// Serves the dashboard (gateway/dashboard/: plain HTML, CSS and ES modules, no build step) at / and /dashboard/.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG_KEYS } from '../gen/spot-config.js';
import { notFound } from '../api/errors.js';

/** gateway/dashboard, from gateway/src/dashboard (tsx) and gateway/dist/dashboard (built) alike. */
export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dashboard');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

/** Only the gateway itself: no script, style, font or image from anywhere else, no inline script. */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Every file under the directory, read once at start (the whole dashboard is a few dozen KB). */
export function loadDashboardFiles(dir = DASHBOARD_DIR): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (sub: string): void => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      const full = path.join(dir, rel);
      if (statSync(full).isDirectory()) walk(rel);
      else if (TYPES[path.extname(name)]) files.set(rel, staticFile(readFileSync(full), TYPES[path.extname(name)]!));
    }
  };
  if (existsSync(dir)) walk('');
  // The config form is built from the same schema the gateway validates commands against.
  files.set('spot-config.json', staticFile(Buffer.from(JSON.stringify(CONFIG_KEYS)), TYPES['.json']!));
  return files;
}

/** Bytes a browser loads for the page: the HTML, the stylesheet and every script (the whole directory). */
export function pageWeight(files: Map<string, StaticFile>): number {
  let bytes = 0;
  for (const file of files.values()) bytes += file.body.length;
  return bytes;
}

export function registerDashboard(app: FastifyInstance, files = loadDashboardFiles()): void {
  const serve = (name: string, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const file = files.get(name);
    if (!file) return notFound(reply, name === 'index.html' ? `the dashboard is not installed (no ${path.join(DASHBOARD_DIR, 'index.html')})` : `no dashboard file ${name}`);
    void reply.header('ETag', file.etag).header('Cache-Control', 'no-cache').header('X-Content-Type-Options', 'nosniff');
    if (file.type.startsWith('text/html')) void reply.header('Content-Security-Policy', CSP);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.type(file.type).send(file.body);
  };
  app.get('/', (request, reply) => serve('index.html', request, reply));
  app.get<{ Params: { '*': string } }>('/dashboard/*', (request, reply) => serve(request.params['*'], request, reply));
}

function staticFile(body: Buffer, type: string): StaticFile {
  return { body, type, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"` };
}
