import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, freePort, startChildServer } from '../support/childServer.ts';
import { call, createUpload, settled, uploadAll } from '../support/client.ts';
import { content, sha256 } from '../support/fixtures.ts';

const MiB = 1024 * 1024;

// Embedded only: kill -9 of `npm start` over its SQLite index and data dir. With the AWS backend the
// process keeps no durable state of its own (index in DynamoDB, bytes in S3, scan work in SQS), so a
// kill there would test the emulator rather than Arca.
describe('crash safety: kill -9 of the server', () => {
  let dataDir: string;
  let port: number;
  let server: ChildServer;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'arca-crash-'));
    port = await freePort();
    server = await startChildServer(dataDir, port);
  });
  afterAll(async () => {
    server.process.kill('SIGKILL');
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  const killAndRestart = async () => {
    server.process.kill('SIGKILL');
    await server.exited;
    server = await startChildServer(dataDir, port);
  };

  it('leaves nothing half-visible when killed mid-upload, and the upload can be retried', async () => {
    const data = content('mid-upload', 32 * MiB);
    const created = await createUpload(server.url, { version: '1.0.0', files: { 'big.bin': data } });
    const target = created.body.files[0].upload;
    await new Promise<void>((resolve) => {
      const req = request(target.url, { method: 'PUT', headers: target.headers });
      req.on('error', () => resolve());
      req.write(data.subarray(0, 8 * MiB), () => {
        server.process.kill('SIGKILL');
        resolve();
      });
    });
    await server.exited;
    server = await startChildServer(dataDir, port);
    expect(await readdir(join(dataDir, 'tmp'))).toEqual([]);
    const stagedDir = await readdir(join(dataDir, 'staging', created.body.uploadId)).catch(() => []);
    expect(stagedDir).toEqual([]);
    const early = await call(server.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
    expect(early.body.error.code).toBe('UploadIncomplete');
    await uploadAll(created, { 'big.bin': data });
    expect((await call(server.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`)).status).toBe(200);
    expect((await settled(server.url, '/v1/packages/demo/app/versions/1.0.0')).body.state).toBe('available');
  });

  it('completes a scan interrupted by kill -9 after restart', async () => {
    const data = content('mid-scan', 60 * MiB);
    const files = { 'scan.bin': data };
    const created = await createUpload(server.url, { version: '2.0.0', files });
    await uploadAll(created, files);
    const commit = await call(server.url, 'POST', `/v1/uploads/${created.body.uploadId}/commit`);
    await killAndRestart();
    expect(commit.status).toBe(200);
    const v = await settled(server.url, '/v1/packages/demo/app/versions/2.0.0');
    expect(v.body.state).toBe('available');
    const download = await call(
      server.url,
      'GET',
      '/v1/packages/demo/app/versions/2.0.0/files/scan.bin?redirect=false',
    );
    const bytes = Buffer.from(await (await fetch(download.body.url)).arrayBuffer());
    expect(sha256(bytes)).toBe(sha256(data));
  });
});
