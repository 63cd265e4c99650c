// The gateway configuration: its JSON schema (with embedded defaults) and its type.
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface GatewayConfig {
  /** TLS on when both files are set (docs/tls.md); plain_port: a second, plain listener beside it. */
  http: { port: number; host: string; idle_timeout_ms: number; max_connections: number; ws_max_message_bytes: number; tls_cert_file?: string; tls_key_file?: string; plain_port?: number };
  data_dir: string;
  buffer: {
    max_mb: number;
    policy: 'drop-oldest' | 'reject';
    durability: 'full' | 'normal' | 'off';
    forward: 'after-sync' | 'after-commit';
    retain: string;
    disk_warn_percent: number;
  };
  /** url unset (or empty) = no MQTT upstream. */
  mqtt: {
    url?: string;
    topic_prefix: string;
    max_in_flight: number;
    degraded_after_s: number;
    poison_after_drops: number;
    stalled_after_s: number;
    tls_ca_file: string;
    tls_cert_file: string;
    tls_key_file: string;
    tls_verify_server_name: boolean;
  };
  /** The id as configured, or the host name (filled in by loadConfig). */
  gateway: { id: string };
  spots: { offline_after_s: number; forget_after_s: number };
  commands: { ttl_s: number; max_bytes: number; max_queued_per_spot: number; max_queued_bytes_per_spot: number; max_reply_bytes: number };
  ingest: { max_event_bytes: number; max_rejected_per_post: number };
  /** Stored images and flashing over the API (docs/firmware-store.md). */
  firmware: { trusted_keys: string; target: string; require_target: boolean; ports: string; max_image_bytes: number; max_images: number };
  log: { level: LogLevel };
  /** docs/security.md */
  auth: AuthConfig;
}

export interface AuthConfig {
  spots: 'off' | 'token';
  api: 'on' | 'off';
  numbering_max_ahead: number;
  session_idle_s: number;
  session_max_s: number;
  max_failures_per_min: number;
}

/** The configuration as the schema validates it: before loadConfig fills in an unset gateway id. */
export type ConfigInput = Omit<GatewayConfig, 'gateway'> & { gateway: { id?: string | null } };

/** One line of docs per key comes from `description`; docs/configuration.md mirrors it. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['http', 'data_dir', 'buffer', 'mqtt', 'gateway', 'spots', 'commands', 'ingest', 'firmware', 'log', 'auth'],
  properties: {
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['port', 'host', 'idle_timeout_ms', 'max_connections', 'ws_max_message_bytes'],
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'TCP port for spots and the API (0 = any free port)' },
        host: { type: 'string', minLength: 1, default: '0.0.0.0', description: 'address to listen on' },
        idle_timeout_ms: { type: 'integer', minimum: 100, default: 30000, description: 'a post silent this long is cut off (events stored so far are kept); so is a reply carrying commands not written out in this time' },
        max_connections: { type: 'integer', minimum: 1, default: 1024, description: 'open TCP connections (spots and API) at once, over both listeners; further ones are closed at once' },
        ws_max_message_bytes: { type: 'integer', minimum: 1024, default: 1048576, description: 'largest message a spot may send over its WebSocket (docs/websocket.md); a larger one closes the connection with 1009' },
        tls_cert_file: { type: 'string', nullable: true, description: 'PEM certificate (chain) of the HTTPS listener; with tls_key_file: http.port speaks HTTPS only; unset = plain HTTP' },
        tls_key_file: { type: 'string', nullable: true, description: 'PEM private key of tls_cert_file (unencrypted); both read again on SIGHUP' },
        plain_port: { type: 'integer', nullable: true, minimum: 0, maximum: 65535, description: 'with TLS on: a second listener speaking plain HTTP on this port (0 = any free port); unset = none' },
      },
    },
    data_dir: { type: 'string', minLength: 1, default: './data', description: 'directory of the SQLite buffer' },
    buffer: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['max_mb', 'policy', 'durability', 'forward', 'retain', 'disk_warn_percent'],
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
        retain: {
          type: 'string',
          default: '24h',
          description:
            'forwarded events are kept this long after their commit, for /api/events and spot-gateway replay (24h, 30m, 7d, or seconds; 0 = pruned at once); the size cap still rules, removing the oldest forwarded events first',
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
      required: ['topic_prefix', 'max_in_flight', 'degraded_after_s', 'poison_after_drops', 'stalled_after_s', 'tls_ca_file', 'tls_cert_file', 'tls_key_file', 'tls_verify_server_name'],
      properties: {
        url: { type: 'string', nullable: true, pattern: '^(mqtt|mqtts|tcp|ssl)://.+', description: 'MQTT broker, e.g. mqtt://host:1883, or mqtts://host:8883 for TLS; unset or empty = no MQTT upstream' },
        topic_prefix: { type: 'string', default: '', pattern: '^([^/+#\\u0000]+(/[^/+#\\u0000]+)*/?)?$', description: 'prefix before every topic, e.g. site1/' },
        max_in_flight: { type: 'integer', minimum: 2, maximum: 65535, default: 8192, description: 'QoS 1 messages awaiting PUBACK at once (never more than the broker\'s Receive Maximum)' },
        degraded_after_s: { type: 'number', exclusiveMinimum: 0, default: 60, description: '/healthz says degraded once the MQTT upstream has been without a connection this long' },
        poison_after_drops: { type: 'integer', minimum: 1, default: 3, description: 'an event is quarantined after the broker dropped the connection this many times with it alone in flight' },
        stalled_after_s: { type: 'number', exclusiveMinimum: 0, default: 60, description: '/healthz says degraded once the MQTT upstream has had a backlog and connections (one that stays, or ones the broker keeps dropping) and acknowledged nothing this long' },
        tls_ca_file: { type: 'string', default: '', description: "mqtts: PEM file of the CA(s) the broker's certificate must chain to; empty = the system's CAs" },
        tls_cert_file: { type: 'string', default: '', description: 'mqtts: PEM client certificate, for a broker that requires one (with mqtt.tls_key_file); empty = none' },
        tls_key_file: { type: 'string', default: '', description: "mqtts: PEM private key of mqtt.tls_cert_file; empty = none" },
        tls_verify_server_name: { type: 'boolean', default: true, description: "mqtts: check that the broker's certificate names the host of mqtt.url (the chain is checked either way)" },
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
    firmware: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['trusted_keys', 'target', 'require_target', 'ports', 'max_image_bytes', 'max_images'],
      properties: {
        trusted_keys: {
          type: 'string',
          default: '',
          description: 'Ed25519 public key files (PEM), separated by commas: an image is stored and flashed only when signed by one of them (empty = the API takes no image)',
        },
        target: { type: 'string', pattern: '^[a-z0-9._-]{1,64}$', default: 'mps2-an385', description: 'the target an image must name (its target TLV) to be stored or flashed' },
        require_target: { type: 'boolean', default: true, description: 'refuse an image that names no target (plain imgtool sign); false accepts it' },
        ports: {
          type: 'string',
          default: '/dev/serial/by-id/*,/dev/ttyUSB*,/dev/ttyACM*',
          description: 'serial ports POST /api/flash may open: absolute paths separated by commas, * matching any characters but / (empty = none)',
        },
        max_image_bytes: { type: 'integer', minimum: 1024, maximum: 16777216, default: 131072, description: 'largest image file POST /api/images takes (the mps2-an385 slot is 128 KiB)' },
        max_images: { type: 'integer', minimum: 1, maximum: 1000, default: 16, description: 'images kept in the store; more are refused (409) until one is deleted' },
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
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      required: ['spots', 'api', 'numbering_max_ahead', 'session_idle_s', 'session_max_s', 'max_failures_per_min'],
      properties: {
        spots: { type: 'string', enum: ['off', 'token'], default: 'off', description: 'spot posts: off = accepted without credentials; token = Authorization: Bearer with a site or per-spot token (docs/security.md)' },
        api: { type: 'string', enum: ['on', 'off'], default: 'on', description: 'API, live feed and metrics: on = a session or API key with the route\'s role; off = open to anyone who reaches the port' },
        numbering_max_ahead: { type: 'integer', minimum: 0, default: 100000, description: "with auth.spots off: how far ahead of a spot's stored seq one post may start (409 beyond); 0 = no bound" },
        session_idle_s: { type: 'integer', minimum: 1, default: 3600, description: 'a login session without a request this long ends' },
        session_max_s: { type: 'integer', minimum: 1, default: 43200, description: 'a login session ends this long after the login; at least auth.session_idle_s' },
        max_failures_per_min: { type: 'integer', minimum: 1, default: 20, description: 'failed authentications from one address within a minute before it is answered 429 until the minute is over' },
      },
    },
  },
} as const;
