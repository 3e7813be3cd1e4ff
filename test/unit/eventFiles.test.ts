import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES, versionPublishedEvent } from '../../functions/core/events.ts';
import type { Version, VersionFile } from '../../functions/core/model.ts';

/** A published version of `count` files whose names are `length` characters, with 32 long metadata values. */
function version(count: number, length: number): Version {
  const files = Array.from(
    { length: count },
    (_, i): VersionFile => ({
      name: `${'a'.repeat(200)}/file-${String(i).padStart(4, '0')}-`.padEnd(length, 'c').slice(-length),
      sha256: i.toString(16).padStart(64, '0'),
      size: 1_000_000 + i,
      mediaType: 'application/octet-stream',
      state: 'pending',
      scan: { status: 'pending', findings: [] },
    }),
  );
  return {
    namespace: 'ns',
    package: 'pkg',
    version: '1.0.0',
    state: 'pending',
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'ci',
    metadata: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`key${i}`, 'v'.repeat(1024)])),
    stages: [],
    protected: false,
    leases: [],
    files,
  };
}

const bytes = (event: unknown) => Buffer.byteLength(JSON.stringify(event));

describe('versionPublishedEvent', () => {
  it('lists every file of a version whose event fits an EventBridge entry', () => {
    const event = versionPublishedEvent(version(1000, 100), '01ARZ3NDEKTSV4RRFFQ69G5FAV');

    expect((event.data.files as unknown[]).length).toBe(1000);
    expect(event.data.filesOmitted).toBeUndefined();
    expect(bytes(event)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });

  it('names the count instead of the files of a 1,000-file version whose names are 512 characters (defect: an event over EventBridge’s 256 KB, refused after the commit was stored)', () => {
    const published = version(1000, 512);
    expect(published.files.every((f) => f.name.length === 512)).toBe(true);

    const event = versionPublishedEvent(published, '01ARZ3NDEKTSV4RRFFQ69G5FAV');

    expect(event.data).toMatchObject({ fileCount: 1000, filesOmitted: true, uploadId: expect.any(String) });
    expect(event.data.files).toBeUndefined();
    expect(bytes(event)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });
});
