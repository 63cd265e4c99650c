// Server-sent-events framing (WHATWG HTML, "Server-sent events"): one frame per message.

/** A frame: `event:` names it, `id:` (events only) is what a reconnecting browser sends back as Last-Event-ID. */
export function sseFrame(event: string, json: string, id?: number): string {
  // Compact JSON has no raw line breaks (JSON escapes them), so the data fits on one `data:` line.
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`;
}

/** How long a browser waits before it reconnects after the stream ends. */
export function sseRetry(ms: number): string {
  return `retry: ${ms}\n\n`;
}
