import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  COUNTERS,
  type CounterName,
  HISTOGRAMS,
  type HistogramName,
  type Labels,
} from '../../core/metrics.ts';
import type { MetricsPort } from '../../ports.ts';

/** What the store holds right now, read at scrape time (the embedded index answers it from SQLite). */
export interface StoreStats {
  /** Blobs and their bytes, by state (`pending`, `available`, `quarantined`, `deleting`). */
  readonly blobs: readonly { readonly state: string; readonly count: number; readonly bytes: number }[];
  /** Versions not tombstoned; of them, those whose every file is available, and those signed. */
  readonly versions: { readonly live: number; readonly available: number; readonly signed: number };
  /** Files of live versions; of them, those whose content has a scan verdict (M7 coverage). */
  readonly files: { readonly total: number; readonly scanned: number };
}

/**
 * The metrics port on prom-client: one registry per server, so two servers in one process (tests)
 * never share counts. Store gauges are read from `stats` on each scrape, never cached.
 */
export class PrometheusMetrics implements MetricsPort {
  readonly registry = new Registry();
  private readonly counters: Record<CounterName, Counter>;
  private readonly histograms: Record<HistogramName, Histogram>;

  constructor(stats?: () => StoreStats) {
    const registers = [this.registry];
    this.counters = Object.fromEntries(
      Object.entries(COUNTERS).map(([key, spec]) => [
        key,
        new Counter({ name: spec.name, help: spec.help, labelNames: [...spec.labels], registers }),
      ]),
    ) as Record<CounterName, Counter>;
    this.histograms = Object.fromEntries(
      Object.entries(HISTOGRAMS).map(([key, spec]) => [
        key,
        new Histogram({
          name: spec.name,
          help: spec.help,
          labelNames: [...spec.labels],
          buckets: [...spec.buckets],
          registers,
        }),
      ]),
    ) as Record<HistogramName, Histogram>;
    if (stats) registerStoreGauges(this.registry, stats);
  }

  count(metric: CounterName, labels: Labels = {}, by = 1): void {
    this.counters[metric].inc(labels, by);
  }

  observe(metric: HistogramName, seconds: number, labels: Labels = {}): void {
    this.histograms[metric].observe(labels, seconds);
  }

  /** The exposition, in Prometheus text format 0.0.4. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

const ratio = (part: number, whole: number) => (whole === 0 ? 1 : part / whole);

/** Gauges of the stored state; one read of `stats` per scrape serves them all. */
function registerStoreGauges(registry: Registry, stats: () => StoreStats): void {
  let current: StoreStats | undefined;
  const registers = [registry];
  // prom-client collects gauges in registration order: the first reads, the others reuse it.
  new Gauge({
    name: 'arca_blobs',
    help: 'Stored blobs, by state',
    labelNames: ['state'],
    registers,
    collect() {
      current = stats();
      this.reset();
      for (const b of current.blobs) this.set({ state: b.state }, b.count);
    },
  });
  const gauge = (name: string, help: string, labelNames: string[], set: (g: Gauge, s: StoreStats) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        if (!current) return;
        this.reset();
        set(this, current);
      },
    });
  gauge('arca_stored_bytes', 'Stored bytes, by blob state', ['state'], (g, s) => {
    for (const b of s.blobs) g.set({ state: b.state }, b.bytes);
  });
  gauge('arca_versions', 'Live versions, by state', ['state'], (g, s) => {
    g.set({ state: 'live' }, s.versions.live);
    g.set({ state: 'available' }, s.versions.available);
    g.set({ state: 'signed' }, s.versions.signed);
  });
  gauge('arca_signed_versions_ratio', 'Signed among available versions (M10)', [], (g, s) =>
    g.set(ratio(s.versions.signed, s.versions.available)),
  );
  gauge('arca_scan_coverage_ratio', 'Files of live versions with a scan verdict (M7)', [], (g, s) =>
    g.set(ratio(s.files.scanned, s.files.total)),
  );
}
