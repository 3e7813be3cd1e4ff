import { UploadIncompleteError } from '../../functions/core/errors.ts';
import type {
  BlobStore,
  CompletedPart,
  MultipartUpload,
  SignedRequest,
  StagedObject,
} from '../../functions/ports.ts';
import { sha256 } from './fixtures.ts';

/** An in-memory BlobStore for use-case tests: tests "upload" by calling `stage` directly. */
export class MemoryBlobStore implements BlobStore {
  readonly staged = new Map<string, Buffer>();
  readonly blobs = new Map<string, Buffer>();
  private readonly parts = new Map<string, Map<number, Buffer>>();

  constructor(readonly multipartThreshold = 1024) {}

  stage(key: string, data: Buffer): void {
    this.staged.set(key, data);
  }

  stagePart(multipartId: string, partNumber: number, data: Buffer): string {
    const parts = this.parts.get(multipartId) ?? new Map<number, Buffer>();
    parts.set(partNumber, data);
    this.parts.set(multipartId, parts);
    return sha256(data);
  }

  async signUpload(key: string, size: number, sha: string, expiresAt: Date): Promise<SignedRequest> {
    return {
      method: 'PUT',
      url: `memory://${key}?exp=${expiresAt.getTime()}`,
      headers: { 'content-length': String(size), 'x-amz-checksum-sha256': sha },
    };
  }

  async signPackUpload(key: string, size: number, expiresAt: Date): Promise<SignedRequest> {
    return {
      method: 'PUT',
      url: `memory://${key}?exp=${expiresAt.getTime()}`,
      headers: { 'content-length': String(size) },
    };
  }

  async putBlob(sha: string, bytes: Uint8Array): Promise<void> {
    if (!this.blobs.has(sha)) this.blobs.set(sha, Buffer.from(bytes));
  }

  async startMultipart(key: string, size: number, _sha: string, expiresAt: Date): Promise<MultipartUpload> {
    const partSize = 512;
    const count = Math.ceil(size / partSize);
    const parts = Array.from({ length: count }, (_, i) => ({
      partNumber: i + 1,
      method: 'PUT' as const,
      url: `memory://${key}/part/${i + 1}?exp=${expiresAt.getTime()}`,
      headers: {},
    }));
    return { multipartId: `mp-${key}`, partSize, parts };
  }

  async completeMultipart(key: string, multipartId: string, list: readonly CompletedPart[]): Promise<void> {
    const parts = this.parts.get(multipartId);
    const sorted = [...list].sort((a, b) => a.partNumber - b.partNumber);
    const buffers = sorted.map((p) => {
      const data = parts?.get(p.partNumber);
      if (!data || sha256(data) !== p.etag) throw new UploadIncompleteError(`part ${p.partNumber} missing`);
      return data;
    });
    this.staged.set(key, Buffer.concat(buffers));
    this.parts.delete(multipartId);
  }

  async abortMultipart(_key: string, multipartId: string): Promise<void> {
    this.parts.delete(multipartId);
  }

  async statStaged(key: string): Promise<StagedObject | null> {
    const data = this.staged.get(key);
    return data ? { size: data.length } : null;
  }

  async readStaged(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    const data = this.staged.get(key);
    if (!data) return null;
    return (async function* () {
      for (let i = 0; i < data.length; i += 7) yield data.subarray(i, i + 7);
    })();
  }

  async hasBlob(sha: string): Promise<boolean> {
    return this.blobs.has(sha);
  }

  async copyToBlob(key: string, sha: string): Promise<boolean> {
    if (this.blobs.has(sha)) return true;
    const data = this.staged.get(key);
    if (!data) return false;
    this.blobs.set(sha, Buffer.from(data));
    return true;
  }

  async deleteStaged(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.staged.delete(k);
  }

  async deleteBlobs(shas: readonly string[]): Promise<void> {
    for (const s of shas) this.blobs.delete(s);
  }

  async signDownload(sha: string, name: string, _mediaType: string, expiresAt: Date): Promise<string> {
    return `memory://blobs/${sha}/${name}?exp=${expiresAt.getTime()}`;
  }
}
