import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanStagedObject } from '../../functions/core/scan.ts';
import { commitUpload, createUpload } from '../../functions/core/uploads.ts';
import { createHandler } from '../../functions/handlers/gc.ts';
import { admin, type CoreHarness, coreHarness } from '../support/coreHarness.ts';
import { content, sha256 } from '../support/fixtures.ts';

const context = (remainingMs: number) =>
  ({
    awsRequestId: 'req-gc-1',
    functionName: 'gc',
    getRemainingTimeInMillis: () => remainingMs,
  }) as unknown as Context;

describe('GC Lambda handler', () => {
  let h: CoreHarness;
  beforeEach(() => {
    h = coreHarness();
  });
  afterEach(() => h.close());

  it('runs GC on schedule, run after run while each ends on its action limit, and records the request id in audit events', async () => {
    for (let i = 0; i < 13; i++) {
      const data = content(`v${i}`);
      const created = await createUpload(h.deps, admin, {
        namespace: 'demo',
        package: 'app',
        version: `${i}`,
        metadata: {},
        files: [
          { name: 'a', size: data.length, sha256: sha256(data), mediaType: 'application/octet-stream' },
        ],
      });
      const key = (await h.deps.index.getSession(created.uploadId))!.files[0]!.stagingKey!;
      h.blobs.stage(key, data);
      await commitUpload(h.deps, admin, { uploadId: created.uploadId });
      await scanStagedObject(h.deps, key);
    }
    h.clock.advance(31 * 86_400);
    const handler = createHandler(h.deps, { maxActions: 1 });
    const reports = await handler({}, context(600_000));
    expect(reports.reduce((n, r) => n + r.tombstoned, 0)).toBe(3); // 13 versions, keep the newest 10
    expect(reports.at(-1)!.nextCursor).toBeNull();
    const audit = await h.deps.index.listAudit({ namespace: 'demo' }, 100);
    const tombstones = audit.items.filter((e) => e.action === 'gc.tombstoneVersion');
    expect(tombstones).toHaveLength(3);
    expect(tombstones[0]).toMatchObject({ actor: 'gc-schedule', requestId: 'req-gc-1' });
  });

  it('stops starting runs when the invocation is about to time out', async () => {
    const handler = createHandler(h.deps, { maxActions: 1 });
    const reports = await handler({}, context(1000));
    expect(reports).toHaveLength(1);
  });
});
