import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { SqsPoller } from '../../functions/adapters/aws/sqsPoller.ts';
import type { Caller, CoreDeps } from '../../functions/core/deps.ts';
import { resolveDownload } from '../../functions/core/downloads.ts';
import { ConflictError } from '../../functions/core/errors.ts';
import { commitUpload, createUpload } from '../../functions/core/uploads.ts';
import { getVersion } from '../../functions/core/versions.ts';
import { createHandler } from '../../functions/handlers/scan.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { coreOn, freshResources, intercept, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';
import { hashDownload, MIB, putStream, SyntheticFile } from './streams.ts';

useMoto();

const caller: Caller = {
  principal: { id: 'ci', kind: 'admin', admin: true, roles: {} },
  requestId: 'req-scan',
};
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
let versions = 0;

/** The AWS backend with its scan Lambda fed by an in-process poller, recording every batch. */
async function setup() {
  const clients = motoClients();
  const resources = await freshResources(clients);
  const deps = coreOn(clients, resources);
  const handler = createHandler(deps, { logger: new Logger({ logLevel: 'SILENT' }) });
  const batches: { event: SQSEvent; response: SQSBatchResponse }[] = [];
  const invoke = async (event: SQSEvent) => {
    const response = await handler(event, {} as Context);
    batches.push({ event, response });
    return response;
  };
  const poller = new SqsPoller({
    sqs: clients.sqs,
    queueUrl: resources.scanQueueUrl,
    handle: invoke,
    waitTimeSeconds: 0,
    retryAfterSeconds: 0,
  });
  /** Delivers until the queue is empty, failed messages coming straight back (bounded). */
  const drain = async () => {
    for (let round = 0; round < 20; round++) if ((await poller.pollOnce(0)) === 0) return;
    throw new Error('the scan queue did not drain');
  };
  return { clients, resources, deps, invoke, batches, drain };
}

/** Opens a session for `declared` and PUTs `sent` through its presigned URL with the listed headers. */
async function upload(deps: CoreDeps, declared: Buffer, sent: Buffer = declared) {
  const version = `1.0.${versions++}`;
  const created = await createUpload(deps, caller, {
    namespace: 'team',
    package: 'app',
    version,
    files: [
      {
        name: 'app.bin',
        size: declared.length,
        sha256: sha256(declared),
        mediaType: 'application/octet-stream',
      },
    ],
    metadata: {},
  });
  const signed = created.files[0]!.upload!;
  const put = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: sent });
  expect(put.status).toBe(200);
  return { uploadId: created.uploadId, ref: { namespace: 'team', package: 'app', version } };
}

describe('scan handler on SQS', () => {
  it('makes a clean upload available: verified, moved to blobs/, served byte-identical', async () => {
    const { deps, drain } = await setup();
    const data = content('clean', 70_000);
    const { uploadId, ref } = await upload(deps, data);
    expect((await commitUpload(deps, caller, { uploadId })).state).toBe('pending');

    await drain();

    expect((await getVersion(deps, caller, ref)).state).toBe('available');
    const download = await resolveDownload(deps, caller, { ...ref, file: 'app.bin' });
    expect(await hashDownload(download.url)).toMatchObject({
      status: 200,
      sha256: sha256(data),
      size: data.length,
    });
  });

  it('publishes 200 MiB in parts: it commits, turns available through the scan and downloads byte-identical', async () => {
    const { deps, drain } = await setup();
    const file = new SyntheticFile(200 * MIB, 'publish-200');
    const ref = { namespace: 'team', package: 'big', version: '1.0.0' };
    const created = await createUpload(deps, caller, {
      ...ref,
      metadata: {},
      files: [
        { name: 'big.bin', size: file.size, sha256: file.sha256(), mediaType: 'application/octet-stream' },
      ],
    });
    const multipart = created.files[0]!.multipart!;
    const parts = [];
    for (const part of multipart.parts) {
      const start = (part.partNumber - 1) * multipart.partSize;
      const length = Math.min(multipart.partSize, file.size - start);
      const res = await putStream(part.url, part.headers, file.range(start, length));
      parts.push({ partNumber: part.partNumber, etag: res.etag! });
    }

    const committed = await commitUpload(deps, caller, {
      uploadId: created.uploadId,
      parts: new Map([['big.bin', parts]]),
    });
    await drain();

    expect(multipart.parts.length).toBeGreaterThanOrEqual(3);
    expect(committed.state).toBe('pending');
    expect((await getVersion(deps, caller, ref)).state).toBe('available');
    const download = await resolveDownload(deps, caller, { ...ref, file: 'big.bin' });
    expect(await hashDownload(download.url)).toMatchObject({
      status: 200,
      size: file.size,
      sha256: file.sha256(),
    });
  }, 300_000);

  it('quarantines wrong bytes that moto accepted on the presigned PUT, by recomputing the digest', async () => {
    const { deps, drain } = await setup();
    const declared = content('declared', 4096);
    const sent = Buffer.from(declared).fill(0x41, 0, 16);
    const { uploadId, ref } = await upload(deps, declared, sent);
    await commitUpload(deps, caller, { uploadId });

    await drain();

    const version = await getVersion(deps, caller, ref);
    expect(version.state).toBe('quarantined');
    expect(version.files[0]!.scan.findings[0]).toMatchObject({ scanner: 'digest', rule: 'digest-mismatch' });
    await expect(resolveDownload(deps, caller, { ...ref, file: 'app.bin' })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await deps.blobs.hasBlob(sha256(declared))).toBe(false);
    expect(await deps.blobs.hasBlob(sha256(sent))).toBe(false);
  });

  it('quarantines the blob of infected content', async () => {
    const { deps, drain } = await setup();
    const { uploadId, ref } = await upload(deps, Buffer.from(`${EICAR}-${versions}`));
    await drain();

    const version = await commitUpload(deps, caller, { uploadId });

    expect(version.state).toBe('quarantined');
    expect((await getVersion(deps, caller, ref)).files[0]!.scan.findings[0]).toMatchObject({
      rule: 'EICAR-Test-File',
    });
  });

  it('treats a redelivered message as a no-op', async () => {
    const { deps, drain, invoke, batches } = await setup();
    const { uploadId, ref } = await upload(deps, content('redelivered', 2048));
    await drain();
    const before = await deps.index.getSession(uploadId);
    const delivered = batches.find((b) => b.event.Records.some((r) => r.body.includes('ObjectCreated')))!;

    const again = await invoke(delivered.event);

    expect(again.batchItemFailures).toEqual([]);
    expect(await deps.index.getSession(uploadId)).toEqual(before);
    expect((await commitUpload(deps, caller, { uploadId })).state).toBe('available');
    expect((await getVersion(deps, caller, ref)).state).toBe('available');
  });

  it('recovers on redelivery when the handler died mid-copy', async () => {
    const { clients, deps, drain, batches } = await setup();
    intercept(clients.s3, 'CopyObjectCommand', async (send, call) => {
      if (call === 1) throw new Error('injected: the function timed out mid-copy');
      return send();
    });
    const { uploadId } = await upload(deps, content('midcopy', 9000));

    await drain();

    expect(batches.filter((b) => b.response.batchItemFailures.length > 0)).toHaveLength(1);
    expect((await commitUpload(deps, caller, { uploadId })).state).toBe('available');
  });

  it('recovers on redelivery when the handler died after the copy, before recording the verdict', async () => {
    const { clients, deps, drain, batches } = await setup();
    intercept(clients.s3, 'DeleteObjectsCommand', async (send, call) => {
      const result = await send();
      if (call === 1) throw new Error('injected: died after the copy');
      return result;
    });
    const { uploadId } = await upload(deps, content('aftercopy', 9000));

    await drain();

    expect(batches.filter((b) => b.response.batchItemFailures.length > 0)).toHaveLength(1);
    expect((await commitUpload(deps, caller, { uploadId })).state).toBe('available');
  });

  it('scans a key once per batch when several messages name it; they share its outcome', async () => {
    const { clients, deps, invoke } = await setup();
    let reads = 0;
    let failReads = true;
    intercept(clients.s3, 'GetObjectCommand', async (send) => {
      reads++;
      if (failReads) throw new Error('injected: the read failed');
      return send();
    });
    const { uploadId } = await upload(deps, content('twice-announced', 5000));
    // S3 redelivers at least once, and moto announces a completed multipart upload as Put and Complete.
    const key = encodeURIComponent(`staging/${uploadId}/0`);
    const notice = (messageId: string, eventName: string) =>
      ({
        messageId,
        body: JSON.stringify({ Records: [{ eventName, s3: { object: { key } } }] }),
      }) as SQSEvent['Records'][number];
    const batch = {
      Records: [
        notice('put', 'ObjectCreated:Put'),
        notice('complete', 'ObjectCreated:CompleteMultipartUpload'),
      ],
    };

    const failed = await invoke(batch);
    expect(failed.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['complete', 'put']);
    expect(reads).toBe(1);

    failReads = false;
    const scanned = await invoke(batch);
    expect(scanned.batchItemFailures).toEqual([]);
    expect(reads).toBe(2);
    expect((await deps.index.getSession(uploadId))?.files[0]?.verdict).toBe('verified');
  });

  it('reports only the failing message of a batch and ignores S3 test events', async () => {
    const { invoke } = await setup();
    const record = (messageId: string, body: string) => ({ messageId, body }) as SQSEvent['Records'][number];
    const event = {
      Records: [
        record('test-event', JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' })),
        record(
          'unknown-key',
          JSON.stringify({ Records: [{ s3: { object: { key: 'staging%2Fnot-an-upload%2F0' } } }] }),
        ),
        record('garbled', '{not json'),
      ],
    };

    const response = await invoke(event);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'garbled' }]);
  });

  it('splits a pack: each file verified on its own, only the tampered one rejected; a scan killed mid-pack resumes without recording a verdict twice', async () => {
    const { clients, deps, drain, batches } = await setup();
    const data = Array.from({ length: 6 }, (_, i) => content(`packed-${i}`, 500 + i * 300));
    const sent = data.map((d, i) => (i === 4 ? Buffer.from(d).fill(0x2a) : d));
    const ref = { namespace: 'team', package: 'packed', version: '1.0.0' };
    const created = await createUpload(deps, caller, {
      ...ref,
      metadata: {},
      pack: true,
      files: data.map((d, i) => ({
        name: `f${i}.bin`,
        size: d.length,
        sha256: sha256(d),
        mediaType: 'application/octet-stream',
      })),
    });
    expect(created.files.every((f) => f.action === 'packed')).toBe(true);
    const pack = created.pack!;
    const put = await fetch(pack.url, {
      method: 'PUT',
      headers: pack.headers,
      body: Buffer.concat(pack.files.map((i) => sent[i]!)),
    });
    expect(put.status).toBe(200);
    expect((await commitUpload(deps, caller, { uploadId: created.uploadId })).state).toBe('pending');
    const recorded: number[] = [];
    const recordScan = deps.index.recordScan.bind(deps.index);
    deps.index.recordScan = (outcome) => {
      recorded.push(outcome.fileIndex);
      return recordScan(outcome);
    };
    // The function dies storing the third file it verified: the message comes back.
    intercept(clients.s3, 'PutObjectCommand', async (send, call) => {
      if (call === 3) throw new Error('injected: the function timed out mid-pack');
      return send();
    });

    await drain();

    expect(batches.filter((b) => b.response.batchItemFailures.length > 0)).toHaveLength(1);
    // Each file recorded once: the redelivery skipped those with a verdict.
    expect([...recorded].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const version = await getVersion(deps, caller, ref);
    expect(version.state).toBe('quarantined');
    expect(version.files.map((f) => f.scan.findings[0]?.rule ?? f.scan.status)).toEqual([
      'clean',
      'clean',
      'clean',
      'clean',
      'digest-mismatch',
      'clean',
    ]);
    // A quarantined version serves nothing: the verified files' blobs are stored, the tampered bytes not.
    for (const i of [0, 1, 2, 3, 5]) expect(await deps.blobs.hasBlob(sha256(data[i]!))).toBe(true);
    expect(await deps.blobs.hasBlob(sha256(data[4]!))).toBe(false);
    expect(await deps.blobs.statStaged(`staging/${created.uploadId}/pack`)).toBeNull();
  });
});
