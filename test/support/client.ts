import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { ADMIN_TOKEN, type EmbeddedServer } from './embedded.ts';
import { sha256 } from './fixtures.ts';

export interface ApiAnswer {
  readonly status: number;
  readonly body: any;
  readonly headers: Headers;
}

/** A raw call: `body` may be an object (sent as JSON) or a string (sent as is). */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    redirect: 'manual',
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export interface PublishOptions {
  readonly namespace?: string;
  readonly package?: string;
  readonly version: string;
  readonly files: Record<string, Buffer>;
  readonly metadata?: Record<string, string>;
  /** The bearer token to publish with (default: the admin's). */
  readonly token?: string;
}

export async function createUpload(base: string, o: PublishOptions): Promise<ApiAnswer> {
  return call(
    base,
    'POST',
    '/v1/uploads',
    {
      namespace: o.namespace ?? 'demo',
      package: o.package ?? 'app',
      version: o.version,
      files: Object.entries(o.files).map(([name, data]) => ({
        name,
        size: data.length,
        sha256: sha256(data),
      })),
      ...(o.metadata ? { metadata: o.metadata } : {}),
    },
    o.token,
  );
}

/** PUTs every `upload` file of a create-upload answer with exactly its signed headers. */
export async function uploadAll(created: ApiAnswer, files: Record<string, Buffer>): Promise<void> {
  for (const f of created.body.files) {
    if (f.action !== 'upload') continue;
    const res = await fetch(f.upload.url, { method: 'PUT', headers: f.upload.headers, body: files[f.name] });
    if (res.status !== 200) throw new Error(`PUT ${f.name}: ${res.status} ${await res.text()}`);
  }
}

/** create → PUT → commit; returns the commit answer. */
export async function publish(base: string, o: PublishOptions): Promise<ApiAnswer> {
  const created = await createUpload(base, o);
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  await uploadAll(created, o.files);
  return call(base, 'POST', `/v1/uploads/${created.body.uploadId}/commit`, undefined, o.token);
}

/** Polls a version until it leaves `pending` (the in-process scan is asynchronous). */
export async function settled(base: string, path: string): Promise<ApiAnswer> {
  for (let i = 0; i < 500; i++) {
    const v = await call(base, 'GET', path);
    if (v.status !== 200 || v.body.state !== 'pending') return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${path} stayed pending`);
}

/**
 * Everything a request could change: index rows and the files under the data dir. Waits for the
 * scans earlier requests queued, so only the request under test can make two snapshots differ.
 */
export async function snapshot(s: EmbeddedServer): Promise<unknown> {
  await s.backend.scanQueue.whenIdle();
  const db = new Database(join(s.dataDir, 'index.sqlite'), { readonly: true });
  try {
    const tables = ['sessions', 'versions', 'files', 'blobs', 'audit'];
    const rows = Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t}`).all()]));
    return { rows, files: await listFiles(s.dataDir) };
  } finally {
    db.close();
  }
}

const REFUSALS = new Set(['auth.unauthenticated', 'auth.forbidden']);
const isRefusal = (row: unknown) => REFUSALS.has((row as { action?: string }).action ?? '');

/**
 * A snapshot (either backend's) without the audit events of refused requests: a 401 or 403 changes
 * nothing in the store, and leaves only that record of itself.
 */
export function withoutRefusalAudits(snapshot: unknown): unknown {
  const s = snapshot as { rows?: { audit: unknown[] }; items?: unknown[] };
  if (s.rows) return { ...s, rows: { ...s.rows, audit: s.rows.audit.filter((r) => !isRefusal(r)) } };
  if (s.items) return { ...s, items: s.items.filter((i) => !isRefusal(i)) };
  return snapshot;
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('index.sqlite'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}
