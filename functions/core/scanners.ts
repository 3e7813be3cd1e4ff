import type { Finding } from './model.ts';

/** A content scanner fed the staged bytes chunk by chunk, on the same single pass as the hash. */
export interface Scanner {
  readonly name: string;
  start(): ScanPass;
}

export interface ScanPass {
  update(chunk: Buffer): void;
  finish(): Finding[];
}

/**
 * Finds fixed byte signatures anywhere in the stream, across chunk boundaries, by keeping the tail of
 * the previous chunk. `Buffer.indexOf` keeps it at memory speed.
 */
class SignaturePass implements ScanPass {
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
    const window = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    for (const sig of this.signatures) {
      let at = window.indexOf(sig.bytes);
      while (at !== -1) {
        const finding = sig.finding(window.subarray(at, at + sig.bytes.length + this.contextBytes));
        if (finding && !this.found.has(finding.rule)) this.found.set(finding.rule, finding);
        at = window.indexOf(sig.bytes, at + 1);
      }
    }
    this.tail = Buffer.from(window.subarray(Math.max(0, window.length - this.keep)));
  }

  finish(): Finding[] {
    return [...this.found.values()];
  }
}

const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');

/** The EICAR anti-malware test signature: proves the malware path end to end without real malware. */
export const eicarScanner: Scanner = {
  name: 'signature',
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
export const secretScanner: Scanner = {
  name: 'secrets',
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

export const defaultScanners: readonly Scanner[] = [eicarScanner, secretScanner];
