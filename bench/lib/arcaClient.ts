import { createReadStream } from 'node:fs';
import { downloadHashing, httpRequest, jsonRequest } from './http.ts';
import { runConcurrently } from './stats.ts';

/** Where an Arca API answers, and the bearer token to use. */
export interface ArcaTarget {
  readonly url: string;
  readonly token: string;
}

export interface VersionRef {
  readonly namespace: string;
  readonly package: string;
  readonly version: string;
}

interface SignedPut {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
}

interface CreatedUpload {
  readonly uploadId: string;
  readonly files: {
    readonly name: string;
    readonly action: 'upload' | 'exists';
    readonly upload?: SignedPut;
    readonly multipart?: {
      readonly partSize: number;
      readonly parts: (SignedPut & { partNumber: number })[];
    };
  }[];
}

interface Version {
  readonly state: string;
}

const auth = (t: ArcaTarget) => ({ authorization: `Bearer ${t.token}` });
const versionPath = (r: VersionRef) =>
  `/v1/packages/${r.namespace}/${r.package}/versions/${encodeURIComponent(r.version)}`;

async function put(signed: SignedPut, body: Parameters<typeof httpRequest>[1]['body']): Promise<string> {
  const res = await httpRequest(signed.url, { method: signed.method, headers: signed.headers, body });
  if (res.status !== 200) {
    throw new Error(`PUT to storage answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
  }
  return String(res.headers.etag ?? '');
}

/** Mints an Arca token with `roles` (the target's token must be allowed to); answers a target using it. */
export async function scopedTarget(
  t: ArcaTarget,
  name: string,
  roles: Record<string, string[]>,
): Promise<ArcaTarget> {
  const created = await jsonRequest<{ token: string }>(
    `${t.url}/v1/tokens`,
    'POST',
    auth(t),
    { name, roles },
    [201],
  );
  return { url: t.url, token: created.token };
}

function createUpload(t: ArcaTarget, ref: VersionRef, name: string, size: number, sha256: string) {
  const body = { ...ref, files: [{ name, size, sha256 }] };
  return jsonRequest<CreatedUpload>(`${t.url}/v1/uploads`, 'POST', auth(t), body, [201]);
}

async function commit(t: ArcaTarget, uploadId: string, parts?: { partNumber: number; etag: string }[]) {
  const body = parts ? { files: [{ name: 'artifact.bin', parts }] } : undefined;
  const res = await httpRequest(`${t.url}/v1/uploads/${uploadId}/commit`, {
    method: 'POST',
    headers: { ...auth(t), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = res.body.toString('utf8');
  if (res.status !== 200)
    throw new Error(`commit of ${uploadId} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Version;
}

/** Where a publish's time went: the API's two calls, and the PUT to storage between them. */
export interface PublishTiming {
  readonly createMs: number;
  readonly putMs: number;
  readonly commitMs: number;
}

/**
 * Publishes one in-memory file: create → PUT → commit. Resolves when the commit answered.
 * `onTiming` receives each step's duration, so a caller can take the API's share apart from the PUT.
 */
export async function publishBuffer(
  t: ArcaTarget,
  ref: VersionRef,
  data: Buffer,
  sha256: string,
  hooks: { onCommitStart?: () => void; onTiming?: (timing: PublishTiming) => void } = {},
) {
  const t0 = performance.now();
  const created = await createUpload(t, ref, 'artifact.bin', data.length, sha256);
  const t1 = performance.now();
  const file = created.files[0]!;
  if (file.action === 'upload') {
    if (!file.upload) throw new Error('a small file was offered multipart; raise the threshold');
    await put(file.upload, data);
  }
  hooks.onCommitStart?.();
  const t2 = performance.now();
  const version = await commit(t, created.uploadId);
  hooks.onTiming?.({ createMs: t1 - t0, putMs: t2 - t1, commitMs: performance.now() - t2 });
  return version;
}

/**
 * Publishes a file from disk, streaming it: one PUT, or multipart parts `partsInFlight` at a time.
 * `onCommitStart` lets a caller time the commit alone; `onTiming` receives each step's duration.
 */
export async function publishFile(
  t: ArcaTarget,
  ref: VersionRef,
  file: { path: string; size: number; sha256: string },
  options: {
    partsInFlight?: number;
    onCommitStart?: () => void;
    onTiming?: (timing: PublishTiming) => void;
  } = {},
) {
  const t0 = performance.now();
  const created = await createUpload(t, ref, 'artifact.bin', file.size, file.sha256);
  const t1 = performance.now();
  const spec = created.files[0]!;
  let parts: { partNumber: number; etag: string }[] | undefined;
  if (spec.action === 'upload' && spec.upload) {
    await put(spec.upload, createReadStream(file.path, { highWaterMark: 1024 * 1024 }));
  } else if (spec.action === 'upload' && spec.multipart) {
    const { partSize, parts: signed } = spec.multipart;
    parts = await runConcurrently(signed.length, options.partsInFlight ?? 4, async (i) => {
      const part = signed[i]!;
      const start = (part.partNumber - 1) * partSize;
      const end = Math.min(file.size, start + partSize) - 1;
      const stream = createReadStream(file.path, { start, end, highWaterMark: 1024 * 1024 });
      return { partNumber: part.partNumber, etag: await put(part, stream) };
    });
  }
  options.onCommitStart?.();
  const t2 = performance.now();
  const version = await commit(t, created.uploadId, parts);
  options.onTiming?.({ createMs: t1 - t0, putMs: t2 - t1, commitMs: performance.now() - t2 });
  return version;
}

/** Polls the version every `pollMs` until it is `available`; fails on quarantine or timeout. */
export async function waitAvailable(t: ArcaTarget, ref: VersionRef, pollMs: number, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const version = await jsonRequest<Version>(`${t.url}${versionPath(ref)}`, 'GET', auth(t));
    if (version.state === 'available') return;
    if (version.state !== 'pending') throw new Error(`${ref.version} became ${version.state}`);
    if (Date.now() > deadline) throw new Error(`${ref.version} still pending after ${timeoutMs} ms`);
    if (pollMs > 0) await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Resolves a file to its signed download URL (`?redirect=false`). */
export async function resolveFile(t: ArcaTarget, ref: VersionRef, name = 'artifact.bin') {
  const path = `${t.url}${versionPath(ref)}/files/${name}?redirect=false`;
  return jsonRequest<{ url: string; sha256: string; size: number }>(path, 'GET', auth(t));
}

/** Resolve + download with sha256 verification; fails when the bytes do not hash to the digest. */
export async function fetchVerified(t: ArcaTarget, ref: VersionRef, name = 'artifact.bin') {
  const resolved = await resolveFile(t, ref, name);
  const got = await downloadHashing(resolved.url);
  if (got.status !== 200 || got.sha256 !== resolved.sha256) {
    throw new Error(`download of ${ref.version}/${name} answered ${got.status} with sha256 ${got.sha256}`);
  }
  return got.size;
}

/** Whether a route exists: any answer but 404 counts (use it on a path whose target exists). */
export async function routeExists(t: ArcaTarget, method: string, path: string, body?: unknown) {
  const res = await httpRequest(`${t.url}${path}`, {
    method,
    headers: { ...auth(t), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.status !== 404;
}
