import { describe, expect, it } from 'vitest';
import { runSoak } from './soak.ts';

describe('soak: publishers reusing blobs while GC cycles run', () => {
  it('never leaves a committed version without its blob and never fails a download (scaled down)', async () => {
    const report = await runSoak({ gcCycles: 30, publishers: 3, hoursPerCycle: 2 });
    expect(report.commits).toBeGreaterThan(20);
    expect(report.deleted.blobs).toBeGreaterThan(0);
    expect(report.deleted.versions).toBeGreaterThan(0);
    expect(report.versionsWithMissingBlob).toBe(0);
    expect(report.failedDownloads).toBe(0);
  }, 120_000);

  it('holds the same with directory versions: path names, one blob twice in a version', async () => {
    const report = await runSoak({ gcCycles: 30, publishers: 3, hoursPerCycle: 2, directories: true });
    expect(report.commits).toBeGreaterThan(20);
    expect(report.deleted.blobs).toBeGreaterThan(0);
    expect(report.deleted.versions).toBeGreaterThan(0);
    expect(report.versionsWithMissingBlob).toBe(0);
    expect(report.failedDownloads).toBe(0);
  }, 120_000);
});
