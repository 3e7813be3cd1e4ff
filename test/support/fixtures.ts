import { createHash } from 'node:crypto';
import { newId } from '../../functions/core/ids.ts';
import type { AuditEvent, UploadSession, VersionRecord } from '../../functions/ports.ts';

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

let counter = 0;
/** Distinct, deterministic content for each call. */
export function content(label = 'content', size?: number): Buffer {
  counter++;
  const text = Buffer.from(`${label}-${counter}-`);
  if (size === undefined) return text;
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += text.length) text.copy(out, i);
  return out;
}

export const audit = (action = 'test'): AuditEvent => ({
  at: new Date().toISOString(),
  actor: 'tester',
  action,
  namespace: 'ns',
  target: 'ns/pkg@1',
  requestId: 'req-1',
});

export function session(
  overrides: Partial<UploadSession> & { files?: UploadSession['files'] } = {},
): UploadSession {
  const uploadId = overrides.uploadId ?? newId();
  const data = content('file');
  return {
    uploadId,
    namespace: 'ns',
    package: 'pkg',
    version: `v-${uploadId.slice(-6)}`,
    state: 'open',
    createdAt: new Date(Date.now() - 1000).toISOString(),
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    createdBy: 'tester',
    metadata: { commit: 'abc' },
    files: [
      {
        name: 'a.bin',
        size: data.length,
        sha256: sha256(data),
        mediaType: 'application/octet-stream',
        action: 'upload',
        stagingKey: `staging/${uploadId}/0`,
      },
    ],
    ...overrides,
  };
}

/** The version record a commit of `s` would write. */
export function versionOf(s: UploadSession, now = new Date()): VersionRecord {
  return {
    namespace: s.namespace,
    package: s.package,
    version: s.version,
    state: 'live',
    createdAt: now.toISOString(),
    createdBy: s.createdBy,
    uploadId: s.uploadId,
    metadata: s.metadata,
    files: s.files.map((f) => ({
      name: f.name,
      sha256: f.sha256,
      size: f.size,
      mediaType: f.mediaType,
      stagingKey: f.stagingKey,
    })),
  };
}
