// The gateway configuration: its JSON schema (with embedded defaults) and its type.
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface GatewayConfig {
  http: { port: number; host: string; idle_timeout_ms: number; max_connections: number };
  data_dir: string;
  buffer: {
    max_mb: number;
    policy: 'drop-oldest' | 'reject';
    durability: 'full' | 'normal' | 'off';
    forward: 'after-sync' | 'after-commit';
    disk_warn_percent: number;
  };
  /** url unset (or empty) = no MQTT upstream. */
  mqtt: { url?: string; topic_prefix: string; max_in_flight: number; degraded_after_s: number; poison_after_drops: number; stalled_after_s: number };
  /** The id as configured, or the host name (filled in by loadConfig). */
  gateway: { id: string };
  spots: { offline_after_s: number; forget_after_s: number };
  commands: { ttl_s: number; max_bytes: number; max_queued_per_spot: number; max_queued_bytes_per_spot: number; max_reply_bytes: number };
  ingest: { max_event_bytes: number; max_rejected_per_post: number };
  log: { level: LogLevel };
}

/** The configuration as the schema validates it: before loadConfig fills in an unset gateway id. */
export type ConfigInput = Omit<GatewayConfig, 'gateway'> & { gateway: { id?: string | null } };

/** One line of docs per key comes from `description`; docs/configuration.md mirrors it. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['http', 'data_dir', 'buffer', 'mqtt', 'gateway', 'spots', 'commands', 'ingest', 'log'],
  properties: {
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['port', 'host', 'idle_timeout_ms', 'max_connections'],
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'TCP port for spots and the API (0 = any free port)' },
        host: { type: 'string', minLength: 1, default: '0.0.0.0', description: 'address to listen on' },
        idle_timeout_ms: { type: 'integer', minimum: 100, default: 30000, description: 'a post silent this long is cut off (events stored so far are kept); so is a reply carrying commands not written out in this time' },
        max_connections: { type: 'integer', minimum: 1, default: 1024, description: 'open TCP connections (spots and API) at once; further ones are closed at once' },
      },
    },
    data_dir: { type: 'string', minLength: 1, default: './data', description: 'directory of the SQLite buffer' },
    buffer: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['max_mb', 'policy', 'durability', 'forward', 'disk_warn_percent'],
      properties: {
        max_mb: { type: 'number', exclusiveMinimum: 0, default: 1024, description: 'size cap of the buffer on disk (database + WAL), MiB' },
        policy: { type: 'string', enum: ['drop-oldest', 'reject'], default: 'drop-oldest', description: 'what happens at the cap: drop the oldest unforwarded events, or answer spots 503' },
        durability: { type: 'string', enum: ['full', 'normal', 'off'], default: 'full', description: 'SQLite synchronous mode: full survives power loss, normal survives a crash of the gateway' },
        forward: {
          type: 'string',
          enum: ['after-sync', 'after-commit'],
          default: 'after-sync',
          description:
            'when stored events go upstream with durability full: after-sync once on disk; after-commit at once (lower latency; after a power loss events forwarded just before it may come again under new event ids). Spots are acknowledged after the sync either way',
        },
        disk_warn_percent: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 100,
          default: 90,
          description: '/healthz, /api/status, /metrics and the dashboard warn once the filesystem of data_dir is fuller than this, percent',
        },
      },
    },
    mqtt: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['topic_prefix', 'max_in_flight', 'degraded_after_s', 'poison_after_drops', 'stalled_after_s'],
      properties: {
        url: { type: 'string', nullable: true, pattern: '^(mqtt|mqtts|tcp|ssl|ws|wss)://.+', description: 'MQTT broker, e.g. mqtt://host:1883; unset or empty = no MQTT upstream' },
        topic_prefix: { type: 'string', default: '', pattern: '^([^/+#\\u0000]+(/[^/+#\\u0000]+)*/?)?$', description: 'prefix before every topic, e.g. site1/' },
        max_in_flight: { type: 'integer', minimum: 2, maximum: 65535, default: 8192, description: 'QoS 1 messages awaiting PUBACK at once (never more than the broker\'s Receive Maximum)' },
        degraded_after_s: { type: 'number', exclusiveMinimum: 0, default: 60, description: '/healthz says degraded once the MQTT upstream has been without a connection this long' },
        poison_after_drops: { type: 'integer', minimum: 1, default: 3, description: 'an event is quarantined after the broker dropped the connection this many times with it alone in flight' },
        stalled_after_s: { type: 'number', exclusiveMinimum: 0, default: 60, description: '/healthz says degraded once the MQTT upstream has had a backlog and connections (one that stays, or ones the broker keeps dropping) and acknowledged nothing this long' },
      },
    },
    gateway: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: [],
      properties: {
        id: { type: 'string', nullable: true, minLength: 1, description: 'gateway id in gateways/<id>/state; default the host name' },
      },
    },
    spots: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['offline_after_s', 'forget_after_s'],
      properties: {
        offline_after_s: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'a spot silent this long is offline' },
        forget_after_s: {
          type: 'number',
          minimum: 0,
          default: 2592000,
          description:
            'a spot silent this long with nothing pending (events, commands) is forgotten: its registry entry, cursors and numbering go, its stored events stay (0 = never; default 30 days)',
        },
      },
    },
    commands: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['ttl_s', 'max_bytes', 'max_queued_per_spot', 'max_queued_bytes_per_spot', 'max_reply_bytes'],
      properties: {
        ttl_s: { type: 'number', exclusiveMinimum: 0, default: 3600, description: 'a queued command not delivered in this time expires' },
        max_bytes: { type: 'integer', minimum: 256, maximum: 1048576, default: 65536, description: "largest command, bytes of its JSON message (the protocol's message limit); larger ones are refused (413)" },
        max_queued_per_spot: { type: 'integer', minimum: 1, default: 100, description: 'commands waiting for one spot; more are refused (429)' },
        max_queued_bytes_per_spot: { type: 'integer', minimum: 256, default: 1048576, description: 'bytes of commands waiting for one spot; more are refused (429); at least commands.max_bytes' },
        max_reply_bytes: { type: 'integer', minimum: 256, default: 65536, description: 'bytes of commands in one reply to a post; the rest go in the next; at least commands.max_bytes' },
      },
    },
    ingest: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['max_event_bytes', 'max_rejected_per_post'],
      properties: {
        max_event_bytes: { type: 'integer', minimum: 64, maximum: 16777216, default: 65536, description: 'longest accepted event; longer ones are rejected' },
        max_rejected_per_post: { type: 'integer', minimum: 0, default: 100, description: 'malformed messages kept per post; more are only counted' },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['level'],
      properties: {
        level: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'log level' },
      },
    },
  },
} as const;
