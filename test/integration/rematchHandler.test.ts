import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { OsvDatabaseFiles } from '../../functions/adapters/osvDatabase.ts';
import { createHandler } from '../../functions/handlers/rematch.ts';
import { audit, session } from '../support/fixtures.ts';
import { coreOn, freshResources, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

const LODASH = 'GHSA-35jh-r3h4-6jhm.json';

describe('the scheduled OSV re-match (handlers/rematch.ts) on DynamoDB', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('flags a stored SBOM when the database gains an advisory, and does nothing on the next run', async () => {
    const clients = motoClients();
    const deps = coreOn(clients, await freshResources(clients));
    const s = session();
    await deps.index.createSession(s, audit());
    await deps.index.recordScan({
      uploadId: s.uploadId,
      fileIndex: 0,
      sha256: s.files[0]!.sha256,
      size: s.files[0]!.size,
      verdict: 'verified',
      report: { status: 'clean', findings: [], components: ['pkg:npm/lodash@4.17.20'] },
      at: new Date(),
    });
    const dir = mkdtempSync(join(tmpdir(), 'arca-osv-'));
    dirs.push(dir);
    cpSync('test/fixtures/osv/db', dir, { recursive: true });
    rmSync(join(dir, LODASH));
    const advisories = new OsvDatabaseFiles(dir, { checkEveryMs: 0 });
    const handler = createHandler(
      { ...deps, advisories },
      { logger: new Logger({ logLevel: 'SILENT' }), metrics: new Metrics({ namespace: 'ArcaTest' }) },
    );
    const run = () => handler(undefined, {} as Context);
    expect(await run()).toMatchObject({ blobs: 1, rematched: 1, newlyFlagged: 0 });

    cpSync(join('test/fixtures/osv/db', LODASH), join(dir, LODASH));

    expect(await run()).toMatchObject({ blobs: 1, attestations: 0, rematched: 1, newlyFlagged: 1 });
    const blob = (await deps.index.getBlobs([s.files[0]!.sha256])).get(s.files[0]!.sha256);
    expect(blob?.scan?.vulnerabilities?.findings.map((v) => v.id)).toEqual(['GHSA-35jh-r3h4-6jhm']);
    expect(await run()).toMatchObject({ rematched: 0 });
  });
});
