// Graceful stop of the HTTP side: new spot posts refused, open ones answered within a grace, then every connection closed.
import type http from 'node:http';

export interface DrainOutcome {
  /** Spot posts open when the stop began. */
  open: number;
  /** Posts still open when the grace ran out: cut without an answer, so the spot sends them again. */
  cut: number;
}

/** Ends one open post without an answer; `reason` is for the log. */
export type CutPost = (reason: string) => void;

/** An open spot WebSocket, as a stop sees it (docs/websocket.md, Closing). */
export interface DrainedSocket {
  /** Stops reading, acknowledges what is committed, closes with 1001; resolves once closed. */
  stop(): Promise<void>;
  /** The grace ran out: closes at once. */
  cut(): void;
}

export class HttpDrain {
  private draining = false;
  private readonly responses = new Set<http.ServerResponse>();
  private readonly posts = new Map<http.ServerResponse, CutPost>();
  private readonly sockets = new Set<DrainedSocket>();
  private onSettled: (() => void) | null = null;

  /** True from the start of the stop: new posts are refused, every answer closes its connection. */
  get stopping(): boolean {
    return this.draining;
  }

  /** Spot posts being read or waiting for their commit. */
  get openPosts(): number {
    return this.posts.size;
  }

  /** Spot WebSockets open. */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** A spot WebSocket opened; the returned function is called when it closed. */
  socket(socket: DrainedSocket): () => void {
    this.sockets.add(socket);
    return () => this.sockets.delete(socket);
  }

  /** Every request the server takes, spot post or API, until its response is done or its connection gone. */
  request(res: http.ServerResponse): void {
    if (this.draining) closeAfterAnswer(res);
    this.responses.add(res);
    res.once('close', () => {
      this.responses.delete(res);
      this.posts.delete(res);
      if (this.responses.size === 0) this.onSettled?.();
    });
  }

  /** The request is a spot post; `cut` ends it when the grace runs out. Call after request(). */
  post(res: http.ServerResponse, cut: CutPost): void {
    if (this.responses.has(res)) this.posts.set(res, cut);
  }

  /**
   * Starts the stop at once (synchronously): no new connections, idle keep-alive connections
   * closed, answers from now on carry `Connection: close`. Resolves when every request is
   * answered or after graceMs, when the posts still open are cut; then every remaining
   * connection is closed, on every server given (the HTTPS one and the plain one beside it).
   * Closing fastify afterwards is the caller's (a second close is harmless).
   */
  async drain(servers: http.Server | http.Server[], graceMs: number): Promise<DrainOutcome> {
    const all = Array.isArray(servers) ? servers : [servers];
    const open = this.posts.size;
    if (!this.draining) {
      this.draining = true;
      for (const res of this.responses) closeAfterAnswer(res);
    }
    for (const server of all) {
      if (server.listening) server.close();
      server.closeIdleConnections();
    }
    const socketsClosed = this.stopSockets(graceMs);
    if (this.responses.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.onSettled = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onSettled = null;
    }
    const cut = this.posts.size;
    for (const cutPost of [...this.posts.values()]) cutPost(`gateway stopping: post still open after the ${graceMs} ms grace`);
    await socketsClosed;
    // Left now: idle sockets, answered ones closing, half-sent request heads: nothing unanswered to lose.
    for (const server of all) server.closeAllConnections();
    return { open, cut };
  }

  /** Each WebSocket acknowledges what is committed and closes; those not closed within graceMs are cut. */
  private async stopSockets(graceMs: number): Promise<void> {
    if (this.sockets.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.sockets].map((s) => s.stop())), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const socket of [...this.sockets]) socket.cut();
  }
}

function closeAfterAnswer(res: http.ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
