import { archiveScanner } from './archive/archiveScanner.ts';
import { BUILTIN } from './builtinEngines.ts';
import type { ContentSummary, EngineRun, Finding } from './model.ts';
import { sbomScanner } from './sbom.ts';
import type { Component } from './vulns/purl.ts';

/** A scanner fed the staged bytes chunk by chunk, on the same single pass as the hash. */
export interface Scanner {
  readonly name: string;
  /** `path`: where the bytes are inside the uploaded file, when they are a file inside an archive. */
  start(context?: PassContext): ScanPass;
  /**
   * The engines behind it, for the report (asked once per scan, after the passes: an engine's
   * database may have been reloaded since the last). Absent: a built-in rule set named `name`.
   */
  engines?(): readonly EngineRun[] | Promise<readonly EngineRun[]>;
}

export interface PassContext {
  readonly path?: string;
}

/** An SBOM a pass read, with the components it lists. */
export interface FoundSbom {
  /** Where it is inside the uploaded file; absent when the file is the SBOM. */
  readonly path?: string;
  readonly format: 'CycloneDX' | 'SPDX';
  readonly components: readonly Component[];
}

/** One scan of one object. A pass that returns a promise is awaited before the next chunk comes. */
export interface ScanPass {
  update(chunk: Buffer): void | Promise<void>;
  finish(): Finding[] | Promise<Finding[]>;
  /** What the pass learned about the content (an archive's listing, an SBOM), for the report. */
  contents?(): ContentSummary;
  /** SBOMs it read (itself, or inside archives), for matching against advisories. */
  sboms?(): readonly FoundSbom[];
}

/** A synchronous byte-pattern scanner: the kind the archive scanner also runs inside archives. */
export interface ContentScanner extends Scanner {
  start(context?: PassContext): ContentPass;
}

export interface ContentPass extends ScanPass {
  update(chunk: Buffer): void;
  finish(): Finding[];
}

/**
 * Finds fixed byte signatures anywhere in the stream, across chunk boundaries, by keeping the tail of
 * the previous chunk. `Buffer.indexOf` keeps it at memory speed.
 */
class SignaturePass implements ContentPass {
  private tail = Buffer.alloc(0);
  private readonly found = new Map<string, Finding>();
  private readonly keep: number;

  constructor(
    private readonly signatures: readonly {
      readonly bytes: Buffer;
      readonly finding: (context: Buffer) => Finding | undefined;
    }[],
    private readonly contextBytes: number,
  ) {
    this.keep = Math.max(...signatures.map((s) => s.bytes.length)) + contextBytes;
  }

  update(chunk: Buffer): void {
    if (chunk.length < this.keep) {
      // Small chunks: one joined window, as cheap as it gets.
      const window = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
      this.search(window, window.length);
      this.tail = Buffer.from(window.subarray(Math.max(0, window.length - this.keep)));
      return;
    }
    // Matches that start in the previous chunk's tail, read across the boundary; then the chunk
    // itself, in place: no copy of the chunk, whatever its size.
    if (this.tail.length > 0)
      this.search(Buffer.concat([this.tail, chunk.subarray(0, this.keep)]), this.tail.length);
    this.search(chunk, chunk.length);
    this.tail = Buffer.from(chunk.subarray(chunk.length - this.keep));
  }

  /** Every match starting before `startsBefore` in `window`. */
  private search(window: Buffer, startsBefore: number): void {
    for (const sig of this.signatures) {
      let at = window.indexOf(sig.bytes);
      while (at !== -1 && at < startsBefore) {
        const finding = sig.finding(window.subarray(at, at + sig.bytes.length + this.contextBytes));
        if (finding && !this.found.has(finding.rule)) this.found.set(finding.rule, finding);
        at = window.indexOf(sig.bytes, at + 1);
      }
    }
  }

  finish(): Finding[] {
    return [...this.found.values()];
  }
}

const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');

/** The EICAR anti-malware test signature: proves the malware path end to end without real malware. */
export const eicarScanner: ContentScanner = {
  name: 'signature',
  engines: () => [{ name: 'signature', version: BUILTIN, database: 'EICAR-Test-File' }],
  start: () =>
    new SignaturePass(
      [
        {
          bytes: EICAR,
          finding: () => ({
            scanner: 'signature',
            rule: 'EICAR-Test-File',
            message: 'EICAR test signature found',
          }),
        },
      ],
      0,
    ),
};

const AWS_KEY_TAIL = /^AKIA[0-9A-Z]{16}(?![0-9A-Z])/;

/** Credentials that must never ship inside an artifact: AWS access keys and private keys. */
export const secretScanner: ContentScanner = {
  name: 'secrets',
  engines: () => [{ name: 'secrets', version: BUILTIN, database: 'aws-access-key-id, private-key' }],
  start: () =>
    new SignaturePass(
      [
        {
          bytes: Buffer.from('AKIA'),
          finding: (ctx) =>
            AWS_KEY_TAIL.test(ctx.toString('latin1'))
              ? { scanner: 'secrets', rule: 'aws-access-key-id', message: 'an AWS access key id is embedded' }
              : undefined,
        },
        {
          bytes: Buffer.from('-----BEGIN '),
          finding: (ctx) =>
            /^-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----/.test(ctx.toString('latin1'))
              ? { scanner: 'secrets', rule: 'private-key', message: 'a private key is embedded' }
              : undefined,
        },
      ],
      40,
    ),
};

/**
 * Every upload gets these: malware and secret signatures on the raw bytes and, through the archive
 * scanner, on the files inside compressed archives; the archive's listing with its limits; SBOM
 * detection.
 */
export const defaultScanners: readonly Scanner[] = [
  eicarScanner,
  secretScanner,
  archiveScanner({ inner: [eicarScanner, secretScanner, sbomScanner] }),
  sbomScanner,
];
