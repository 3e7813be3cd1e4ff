import { publishBuffer, waitAvailable } from '../lib/arcaClient.ts';
import type { BenchContext } from '../lib/context.ts';
import { median } from '../lib/stats.ts';
import { measure, type Publish } from './smallPublish.ts';

const CASE = '11 metrics';

/** Scrapes `/metrics` now and every second until stopped, as a Prometheus would; returns how many scrapes ran. */
function scrapeEverySecond(url: string, token: string): { stop(): Promise<number> } {
  let scrapes = 0;
  let running: Promise<void> = Promise.resolve();
  const scrape = () => {
    running = fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then(async (res) => {
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      await res.text();
      scrapes++;
    });
  };
  scrape();
  const timer = setInterval(scrape, 1000);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      return scrapes;
    },
  };
}

/**
 * Case 9: the 1 KiB publish p50, one at a time, with `/metrics` scraped every second during the run
 * against the same without a scraper. Both runs record metrics and events (they are always on): the
 * scrape's cost (reading the store's gauges from SQLite, rendering) is what this shows.
 */
export async function metricsScrape(ctx: BenchContext): Promise<void> {
  const { scale } = ctx;
  const publish: Publish = (blob, id) =>
    publishBuffer(ctx.arca, { namespace: 'bench', package: 'metrics', version: id }, blob.data, blob.sha256);
  const settle = (lastId: string) =>
    waitAvailable(ctx.arca, { namespace: 'bench', package: 'metrics', version: lastId }, 5);
  await measure(publish, 'warm-metrics', scale.smallWarmup, 1, scale.smallSize);
  const quiet: number[] = [];
  const scraped: number[] = [];
  let scrapes = 0;
  for (let r = 0; r < scale.repeats; r++) {
    ctx.progress(`metrics: without a scraper, repeat ${r + 1}/${scale.repeats}`);
    quiet.push((await measure(publish, `m${r}-quiet`, scale.smallSequential, 1, scale.smallSize)).p50);
    await settle(`m${r}-quiet.${scale.smallSequential - 1}`);
    ctx.progress(`metrics: /metrics scraped every second, repeat ${r + 1}/${scale.repeats}`);
    const scraper = scrapeEverySecond(ctx.arca.url, ctx.arca.token);
    scraped.push((await measure(publish, `m${r}-scraped`, scale.smallSequential, 1, scale.smallSize)).p50);
    scrapes += await scraper.stop();
    await settle(`m${r}-scraped.${scale.smallSequential - 1}`);
  }
  const base = median(quiet);
  const withScrape = median(scraped);
  ctx.add({
    case: CASE,
    name: `embedded ${scale.smallSize / 1024} KiB publish p50, /metrics scraped every second (${scrapes} scrapes)`,
    value: withScrape,
    unit: 'ms',
    better: 'lower',
    anchor: { name: 'the same without a scraper', value: base },
  });
  ctx.add({
    case: CASE,
    name: 'publish p50 with scraping ÷ without',
    value: withScrape / base,
    unit: '×',
    better: 'lower',
    target: { op: '≤', value: 1.05, text: '≤ 1.05× (issue 16)' },
  });
}
