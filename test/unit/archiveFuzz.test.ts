import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { archiveScanner } from '../../functions/core/archive/archiveScanner.ts';
import { MAX_META_BYTES, TarReader } from '../../functions/core/archive/tarReader.ts';
import { readZipDirectory } from '../../functions/core/archive/zipDirectory.ts';
import { eicarScanner, secretScanner } from '../../functions/core/scanners.ts';
import { fixture, withEicar } from '../support/archives.ts';

const TARS = [
  'gnu-tar-pax.tar',
  'gnu-tar-gnu.tar',
  'python-pax.tar',
  'python-gnu.tar',
  'python-pax-size-record.tar',
];
const ZIPS = ['info-zip.zip', 'info-zip-zip64.zip', 'python-zipfile.zip', 'python-zip64.zip'];
const tars = TARS.map((name) => withEicar(fixture(name)));
const zips = ZIPS.map(fixture);
const tarGzs = tars.map((bytes) => gzipSync(bytes));

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; from: number; to: number; blocks: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    from: fc.nat(),
    to: fc.nat(),
    blocks: fc.integer({ min: 1, max: 4 }),
  }),
);

/** Bit flips, overwritten bytes, truncation, and 512-byte blocks copied elsewhere (a header repeated, data where a header was). */
function mutate(seed: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(seed);
  for (const m of mutations) {
    if (bytes.length === 0) break;
    if (m.kind === 'flip') bytes[m.at % bytes.length]! ^= 1 << m.bit;
    else if (m.kind === 'set') bytes[m.at % bytes.length] = m.byte;
    else if (m.kind === 'truncate') bytes = bytes.subarray(0, m.at % bytes.length);
    else {
      const blocks = Math.ceil(bytes.length / 512);
      const from = (m.from % blocks) * 512;
      const to = (m.to % blocks) * 512;
      const moved = Buffer.from(bytes.subarray(from, from + m.blocks * 512));
      bytes = Buffer.concat([bytes.subarray(0, to), moved, bytes.subarray(to)]);
    }
  }
  return bytes;
}

const mutated = (seeds: readonly Buffer[]) =>
  fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 6 }))
    .map(([seed, mutations]) => mutate(seed, mutations));

/** Random bytes behind a real first header, so they reach the parser rather than fail detection. */
const randomAfterHeader = fc
  .uint8Array({ maxLength: 4096 })
  .map((tail) => Buffer.concat([tars[0]!.subarray(0, 512), Buffer.from(tail)]));

const chunkSize = fc.integer({ min: 1, max: 4096 });

const inChunks = (bytes: Buffer, size: number): Buffer[] =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

/** A generous ceiling for inputs of a few KiB: a reader that loops or backtracks would blow it. */
const MAX_MS_PER_CASE = 1000;

describe('the archive readers under fuzzing', () => {
  it('never crash, stay within their memory bound and read random or mutated tars in linear work', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(tars), randomAfterHeader), chunkSize, (bytes, size) => {
        let callbacks = 0;
        const reader = new TarReader({
          entry: () => callbacks++,
          data: () => callbacks++,
          endEntry: () => callbacks++,
        });
        let mostHeld = 0;
        const started = performance.now();
        for (const chunk of inChunks(bytes, size)) {
          reader.write(chunk);
          mostHeld = Math.max(mostHeld, reader.heldBytes);
        }
        reader.end();
        expect(mostHeld).toBeLessThanOrEqual(512 + MAX_META_BYTES);
        // Each callback answers at least one header block or one input chunk: never more than those.
        expect(callbacks).toBeLessThanOrEqual(3 * (bytes.length / 512 + bytes.length / size + 1));
        expect(performance.now() - started).toBeLessThan(MAX_MS_PER_CASE);
      }),
      { numRuns: 400 },
    );
  });

  it('never crash on random or mutated zip directories, and list no more entries than the tail can hold', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(zips), fc.uint8Array({ maxLength: 2048 }).map(Buffer.from)), (bytes) => {
        let entries = 0;
        const started = performance.now();
        const listing = readZipDirectory(bytes, bytes.length, () => entries++);
        expect(entries).toBeLessThanOrEqual(bytes.length / 46);
        expect(listing.entries).toBeGreaterThanOrEqual(0);
        expect(performance.now() - started).toBeLessThan(MAX_MS_PER_CASE);
      }),
      { numRuns: 400 },
    );
  });

  it('never call a mutated archive clean while its listing is incomplete: every stop carries a finding', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(mutated(tars), mutated(tarGzs), mutated(zips)),
        chunkSize,
        async (bytes, size) => {
          const pass = archiveScanner({
            inner: [eicarScanner, secretScanner],
            bombFloorBytes: 2 ** 20,
          }).start();
          const started = performance.now();
          for (const chunk of inChunks(bytes, size)) {
            const pending = pass.update(chunk);
            if (pending) await pending;
          }
          const findings = await pass.finish();
          const archive = pass.contents?.().archive;
          if (archive?.incomplete) expect(findings.some((f) => f.scanner === 'archive')).toBe(true);
          expect(performance.now() - started).toBeLessThan(MAX_MS_PER_CASE);
        },
      ),
      { numRuns: 150 },
    );
  });
});
