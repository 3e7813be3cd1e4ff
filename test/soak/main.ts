/** `npm run soak`: the full-size soak (≥ 500 GC cycles); prints the report, exits 1 on any loss. */
import { runSoak } from './soak.ts';

const cycles = Number(process.env.SOAK_CYCLES ?? 500);
const started = performance.now();
const report = await runSoak({ gcCycles: cycles, publishers: 4, hoursPerCycle: 2 });
console.log(
  JSON.stringify({ ...report, seconds: Math.round((performance.now() - started) / 100) / 10 }, null, 2),
);
process.exit(report.versionsWithMissingBlob === 0 && report.failedDownloads === 0 ? 0 : 1);
