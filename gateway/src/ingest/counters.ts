// Ingest counters since start; metrics and status read them.

export class IngestCounters {
  posts = 0;
  /** Posts answered 503 because the store refused. */
  postsRefused = 0;
  /** Posts whose body never ended (idle timeout) or whose client went away. */
  postsCut = 0;
  eventsReceived = 0;
  eventsStored = 0;
  duplicates = 0;
  rejected = 0;
  /** Malformed messages counted but not kept (over max_rejected_per_post). */
  rejectedNotKept = 0;
  bytes = 0;
  commandsDelivered = 0;
  /** Replies carrying commands whose connection closed before the reply was written out. */
  commandRepliesCut = 0;
  /** Commands given up on: their response was cut off before it was written out, maxCommandAttempts times. */
  commandsFailed = 0;
  /** Commands refused before they were queued (REST and MQTT): invalid; over commands.max_bytes; their spot's queue full. */
  commandsRefusedInvalid = 0;
  commandsRefusedTooLarge = 0;
  commandsRefusedQueueFull = 0;
  /** Posts refused 409 and frames rejected: numbering beyond auth.numbering_max_ahead (docs/security.md). */
  numberingRefused = 0;
  /** WebSocket messages received from spots, and acknowledgements sent (docs/websocket.md). */
  wsMessages = 0;
  wsAcks = 0;
}
