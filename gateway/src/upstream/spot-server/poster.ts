// One chunked post to a spot server (docs/chaining.md): the events as HTTP chunks, the answer's
// status and body (the commands), bounded in time and size. Plain http:// or https:// with a CA file.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export interface PostRequest {
  serial: string;
  headers: Record<string, string>;
  /** Each element goes out as one HTTP chunk. */
  chunks: Uint8Array[];
}

export interface PostAnswer {
  status: number;
  /** The answer's Content-Type (the commands' encoding), '' when absent. */
  contentType: string;
  body: Buffer;
  /** Retry-After in seconds (429, 503), null when absent or not a number. */
  retryAfterS: number | null;
}

export interface PosterOptions {
  /** http(s)://host[:port][/prefix]: the post goes to <prefix>/api/spots/<serial>/events/. */
  url: string;
  /** PEM file of the CA(s) the server's certificate must chain to; empty: the system's CAs. */
  caFile?: string;
  /** Posts open at once (sockets kept alive for reuse). */
  maxSockets: number;
  /** From the first byte sent to the end of the answer. */
  timeoutMs: number;
  /** Answers longer than this are cut and the post counts as failed. */
  maxAnswerBytes: number;
}

export class Poster {
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly secure: boolean;

  constructor(private readonly o: PosterOptions) {
    this.base = new URL(o.url);
    this.secure = this.base.protocol === 'https:';
    if (!this.secure && this.base.protocol !== 'http:') throw new Error(`spot_server.url: ${o.url} is not an http:// or https:// URL`);
    // Without a CA file: Node's built-in CAs.
    const options = { keepAlive: true, maxSockets: o.maxSockets, ...(o.caFile ? { ca: readFileSync(o.caFile) } : {}) };
    this.agent = this.secure ? new https.Agent(options) : new http.Agent(options);
  }

  /** The path a spot's events go to. */
  pathOf(serial: string): string {
    return `${this.base.pathname.replace(/\/+$/, '')}/api/spots/${encodeURIComponent(serial)}/events/`;
  }

  /** Resolves with the answer, whatever its status; rejects on a transport failure, a timeout or an answer too long. */
  post(request: PostRequest): Promise<PostAnswer> {
    return new Promise<PostAnswer>((resolve, reject) => {
      let settled = false;
      const req = (this.secure ? https : http).request({
        agent: this.agent,
        protocol: this.base.protocol,
        hostname: this.base.hostname,
        port: this.base.port,
        method: 'POST',
        path: this.pathOf(request.serial),
        headers: { ...request.headers, 'Transfer-Encoding': 'chunked' },
      });
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`no answer within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);
      req.on('error', fail);
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        let bytes = 0;
        res.on('data', (piece: Buffer) => {
          bytes += piece.length;
          if (bytes > this.o.maxAnswerBytes) fail(new Error(`answer over ${this.o.maxAnswerBytes} bytes`));
          else parts.push(piece);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const retry = Number(res.headers['retry-after']);
          resolve({ status: res.statusCode!, contentType: res.headers['content-type'] ?? '', body: Buffer.concat(parts), retryAfterS: Number.isFinite(retry) && retry >= 0 ? retry : null });
        });
      });
      for (const chunk of request.chunks) req.write(chunk);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
