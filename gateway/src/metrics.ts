// Prometheus metrics (prom-client): ingest counters, store and forwarder status, read at scrape time.
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';
import type { DiskReading } from './disk-space.js';
import type { IngestCounters } from './ingest/counters.js';
import type { HistogramSnapshot } from './duration-histogram.js';
import { oncePerTurn } from './once-per-turn.js';
import type { StoreStatus } from './store/types.js';

export interface UpstreamMetricsSource {
  name: string;
  status(): {
    state: string;
    published: number;
    acked: number;
    refused: number;
    lagEvents: number | null;
    reconnects: number;
    ratePerSec: number;
    delivery: HistogramSnapshot;
    quarantined: number;
  };
}

export interface MetricsSources {
  counters: IngestCounters;
  storeStatus: () => StoreStatus;
  spotsOnline: () => number;
  /** Spot WebSockets open now (docs/websocket.md). */
  wsConnections?: () => number;
  /** Spots in the registry (heard from, not forgotten). */
  spotsKnown: () => number;
  upstreams: () => UpstreamMetricsSource[];
  /** TLS on: the certificate served (docs/tls.md). */
  tls?: { expiresInS(): number; readonly handshakeFailures: number } | null;
  /** Flash jobs from the API: finished ones by outcome, and those running. */
  flashJobs?: { outcomeCounts(): ReadonlyMap<string, number>; running(): readonly unknown[] };
  /** The data filesystem (disk-space.ts). */
  disk: () => DiskReading;
}

type CounterKey = keyof IngestCounters;

// Ingest counters are monotonic totals kept by ingest; exported as gauges read at scrape time
// (prom-client counters can only be incremented by the owner).
const INGEST: Array<[string, CounterKey, string]> = [
  ['spot_gateway_posts_total', 'posts', 'spot posts started'],
  ['spot_gateway_posts_refused_total', 'postsRefused', 'posts answered 503 (store unavailable or full)'],
  ['spot_gateway_posts_cut_total', 'postsCut', 'posts cut off (idle timeout or client gone)'],
  ['spot_gateway_events_received_total', 'eventsReceived', 'events decoded from spots'],
  ['spot_gateway_events_stored_total', 'eventsStored', 'events committed to the buffer'],
  ['spot_gateway_duplicates_total', 'duplicates', 'retransmitted events dropped'],
  ['spot_gateway_rejected_total', 'rejected', 'malformed messages'],
  ['spot_gateway_rejected_not_kept_total', 'rejectedNotKept', 'malformed messages counted but not kept'],
  ['spot_gateway_ingest_bytes_total', 'bytes', 'body bytes received from spots'],
  ['spot_gateway_commands_delivered_total', 'commandsDelivered', 'commands delivered to spots'],
  ['spot_gateway_command_replies_cut_total', 'commandRepliesCut', 'replies carrying commands cut off before they were written out'],
  ['spot_gateway_commands_failed_total', 'commandsFailed', 'commands failed after three cut-off deliveries'],
  ['spot_gateway_commands_refused_invalid_total', 'commandsRefusedInvalid', 'commands refused: not a command a spot can take'],
  ['spot_gateway_commands_refused_too_large_total', 'commandsRefusedTooLarge', 'commands refused: over commands.max_bytes'],
  ['spot_gateway_commands_refused_queue_full_total', 'commandsRefusedQueueFull', "commands refused: their spot's queue full"],
  ['spot_gateway_ws_messages_total', 'wsMessages', 'WebSocket messages received from spots'],
  ['spot_gateway_ws_acks_total', 'wsAcks', 'WebSocket acknowledgements sent to spots'],
  ['spot_gateway_posts_refused_numbering_total', 'numberingRefused', 'posts refused 409 and frames rejected: numbering beyond auth.numbering_max_ahead'],
];

export function createMetrics(given: MetricsSources): Registry {
  const sources: MetricsSources = {
    ...given,
    // prom-client collects every gauge on its own: without this, the status would be computed once per gauge (15 times a scrape).
    storeStatus: oncePerTurn(given.storeStatus),
    upstreams: oncePerTurn(() => given.upstreams().map((u) => ({ name: u.name, status: oncePerTurn(() => u.status()) }))),
  };
  const registry = new GatewayRegistry();
  collectDefaultMetrics({ register: registry, prefix: 'spot_gateway_' });
  for (const [name, key, help] of INGEST) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(sources.counters[key]);
      },
    });
  }
  const fromStore = (name: string, help: string, read: (s: StoreStatus) => number | null): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read(sources.storeStatus());
        this.set(value ?? 0);
      },
    });
  };
  fromStore('spot_gateway_buffer_events', 'events in the buffer', (s) => s.events);
  fromStore('spot_gateway_buffer_bytes', 'buffer size on disk (database + WAL)', (s) => s.bytes);
  fromStore('spot_gateway_buffer_max_bytes', 'buffer size cap', (s) => s.maxBytes);
  fromStore('spot_gateway_buffer_dropped_total', 'events dropped by the size cap', (s) => s.dropped);
  fromStore('spot_gateway_buffer_oldest_unforwarded_age_seconds', 'age of the oldest unforwarded event', (s) =>
    s.oldestUnforwardedAgeMs === null ? 0 : s.oldestUnforwardedAgeMs / 1000,
  );
  fromStore('spot_gateway_buffer_commits_total', 'group commits since start', (s) => s.commits);
  registry.snapshotHistogram('spot_gateway_wal_fsync_seconds', 'WAL fsyncs acknowledgements waited for, by duration', () => [[{}, sources.storeStatus().walSync]]);
  registry.snapshotHistogram('spot_gateway_upstream_delivery_seconds', 'events from receipt at the gateway to the upstream acknowledgement, by duration', () =>
    sources.upstreams().map((u) => [{ upstream: u.name }, u.status().delivery]),
  );
  new Gauge({
    name: 'spot_gateway_spots_online',
    help: 'spots heard from within spots.offline_after_s',
    registers: [registry],
    collect() {
      this.set(sources.spotsOnline());
    },
  });
  new Gauge({
    name: 'spot_gateway_ws_connections',
    help: 'spot WebSockets open',
    registers: [registry],
    collect() {
      this.set(sources.wsConnections?.() ?? 0);
    },
  });
  new Gauge({
    name: 'spot_gateway_spots_known',
    help: 'spots in the registry (heard from and not forgotten, spots.forget_after_s)',
    registers: [registry],
    collect() {
      this.set(sources.spotsKnown());
    },
  });
  new Gauge({
    name: 'spot_gateway_disk_used_ratio',
    help: 'fill level of the filesystem holding data_dir, 0..1, as df shows it',
    registers: [registry],
    collect() {
      this.set(sources.disk().usedRatio);
    },
  });
  new Gauge({
    name: 'spot_gateway_disk_warning',
    help: '1 when the data filesystem is fuller than buffer.disk_warn_percent (or cannot be measured)',
    registers: [registry],
    collect() {
      const disk = sources.disk();
      this.set(disk.warning || disk.error !== null ? 1 : 0);
    },
  });
  const upstreamGauge = (name: string, help: string, read: (s: ReturnType<UpstreamMetricsSource['status']>) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: ['upstream'],
      registers: [registry],
      collect() {
        for (const upstream of sources.upstreams()) this.set({ upstream: upstream.name }, read(upstream.status()) ?? 0);
      },
    });
  };
  upstreamGauge('spot_gateway_upstream_connected', '1 when the upstream is connected', (s) => (s.state === 'connected' ? 1 : 0));
  upstreamGauge('spot_gateway_upstream_published_total', 'events handed to the upstream', (s) => s.published);
  upstreamGauge('spot_gateway_upstream_acked_total', 'events acknowledged by the upstream', (s) => s.acked);
  upstreamGauge('spot_gateway_upstream_refused_total', 'events the upstream refused for good', (s) => s.refused);
  upstreamGauge('spot_gateway_upstream_lag_events', 'stored events not yet acknowledged upstream', (s) => s.lagEvents);
  upstreamGauge('spot_gateway_upstream_reconnects_total', 'upstream reconnects', (s) => s.reconnects);
  upstreamGauge('spot_gateway_upstream_rate_per_second', 'events acknowledged per second, recent', (s) => s.ratePerSec);
  const tlsCert = given.tls;
  if (tlsCert) {
    new Gauge({
      name: 'spot_gateway_tls_cert_expiry_seconds',
      help: "seconds until the HTTPS listener's certificate expires (notAfter; negative once expired)",
      registers: [registry],
      collect() {
        this.set(tlsCert.expiresInS());
      },
    });
    new Gauge({
      name: 'spot_gateway_tls_handshake_failures_total',
      help: 'connections to the HTTPS listener closed at a failed handshake (plain HTTP, an untrusted certificate, an old version)',
      registers: [registry],
      collect() {
        this.set(tlsCert.handshakeFailures);
      },
    });
  }
  upstreamGauge('spot_gateway_upstream_quarantined_events', 'events in quarantine now (GET /api/quarantine)', (s) => s.quarantined);
  const jobs = given.flashJobs;
  if (jobs) {
    new Gauge({
      name: 'spot_gateway_flash_jobs_total',
      help: 'flash jobs (POST /api/flash) finished since start, by outcome: done, or the reason they failed',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        this.set({ outcome: 'done' }, jobs.outcomeCounts().get('done') ?? 0);
        for (const [outcome, count] of jobs.outcomeCounts()) this.set({ outcome }, count);
      },
    });
    new Gauge({
      name: 'spot_gateway_flash_jobs_running',
      help: 'flash jobs queued or running',
      registers: [registry],
      collect() {
        this.set(jobs.running().length);
      },
    });
  }
  return registry;
}

type Series = Array<[Record<string, string>, HistogramSnapshot]>;

/**
 * prom-client's registry plus histograms read from our own buckets at scrape time, one series per
 * label set (prom-client's Histogram is filled by observe() calls; the store and the forwarders
 * keep no reference to the metrics). They are written in the Prometheus text format after the
 * registry's own metrics; only public API is used: `metrics()` is what /metrics serves.
 */
class GatewayRegistry extends Registry {
  private readonly histograms: Array<{ name: string; help: string; read: () => Series }> = [];

  snapshotHistogram(name: string, help: string, read: () => Series): void {
    this.histograms.push({ name, help, read });
  }

  override async metrics(): Promise<string> {
    const text = await super.metrics();
    return text + this.histograms.map((h) => histogramText(h.name, h.help, h.read())).join('');
  }
}

function labelText(labels: Record<string, string>, le?: string): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  if (le !== undefined) pairs.push(`le="${le}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

/** One histogram in the Prometheus text exposition format (buckets cumulative, as the snapshot keeps them). */
export function histogramText(name: string, help: string, series: Series): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  for (const [labels, w] of series) {
    w.boundsMs.forEach((ms, i) => lines.push(`${name}_bucket${labelText(labels, String(ms / 1000))} ${w.counts[i]!}`));
    lines.push(`${name}_bucket${labelText(labels, '+Inf')} ${w.count}`);
    lines.push(`${name}_sum${labelText(labels)} ${w.sumMs / 1000}`);
    lines.push(`${name}_count${labelText(labels)} ${w.count}`);
  }
  return lines.join('\n') + '\n';
}
