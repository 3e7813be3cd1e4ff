import { readdirSync, readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { parseS3Location, S3OsvDatabase } from '../../functions/adapters/aws/s3OsvDatabase.ts';
import { componentOf } from '../../functions/core/vulns/purl.ts';
import { zip } from '../support/archives.ts';
import { freshResources, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

const DB = 'test/fixtures/osv/db';
/** The fixture database as a zip of OSV JSON, as the per-ecosystem exports come; `without` left out. */
const databaseZip = (without?: string) =>
  zip(
    readdirSync(DB)
      .filter((name) => name !== without)
      .map((name) => ({ path: `advisories/${name}`, data: readFileSync(`${DB}/${name}`), deflate: true })),
  );

describe('S3OsvDatabase (ARCA_OSV_DB=s3://…)', () => {
  it('loads a zip of OSV records from S3 and reloads it when the object changes', async () => {
    const clients = motoClients();
    const { bucket } = await freshResources(clients);
    const put = (body: Buffer) =>
      clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'osv/all.zip', Body: body }));
    const lodash = [componentOf('pkg:npm/lodash@4.17.20')!];
    await put(databaseZip('GHSA-35jh-r3h4-6jhm.json'));
    const db = new S3OsvDatabase(clients.s3, { bucket, key: 'osv/all.zip' }, { checkEveryMs: 0 });

    const first = await db.current();
    expect(first.advisories).toBe(4);
    expect(first.match(lodash)).toEqual([]);
    expect(await db.current()).toBe(first); // unchanged object: the loaded database

    await put(databaseZip());
    const second = await db.current();

    expect(second.version).not.toBe(first.version);
    expect(second.match(lodash).map((v) => v.id)).toEqual(['GHSA-35jh-r3h4-6jhm']);
  });

  it('reads s3:// locations and refuses others', () => {
    expect(parseS3Location('s3://arca-osv/exports/all.zip')).toEqual({
      bucket: 'arca-osv',
      key: 'exports/all.zip',
    });
    expect(parseS3Location('s3://arca-osv')).toBeUndefined();
    expect(parseS3Location('/var/lib/osv')).toBeUndefined();
  });
});
