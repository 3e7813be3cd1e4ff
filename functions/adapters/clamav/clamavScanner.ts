import type { EngineRun, Finding } from '../../core/model.ts';
import type { Scanner, ScanPass } from '../../core/scanners.ts';
import type { ClamdClient, ClamdStream } from './clamdClient.ts';

/**
 * ClamAV as a scan engine: every byte the pass sees is streamed to clamd (`INSTREAM`), and its
 * answer is the pass's verdict. Used on the uploaded file when it is not an archive the scan opens,
 * and on every file inside one, so a finding names the entry (`lib/inner.zip!/bad.so`) and clamd
 * still opens what the scan does not (7z, rar, PDF, OLE…) with its own limits.
 *
 * Fails closed: clamd unreachable or answering an error throws `ClamdUnavailableError` (a
 * `ScanEngineError` of engine `clamav`), so the file shows scan `error`, stays `pending`, and the scan
 * step fails and is retried; clamd refusing to read a stream to its end
 * (its StreamMaxLength or scan limits) is a finding, since those bytes were not scanned.
 */
export function clamavScanner(client: ClamdClient): Scanner {
  return {
    name: 'clamav',
    start: () => new ClamavPass(client),
    engines: async (): Promise<EngineRun[]> => {
      const version = await client.version();
      return [
        {
          name: 'clamav',
          version: version.engine,
          database: version.database ?? 'no official database loaded',
        },
      ];
    },
  };
}

class ClamavPass implements ScanPass {
  private stream: Promise<ClamdStream> | undefined;

  constructor(private readonly client: ClamdClient) {}

  update(chunk: Buffer): Promise<void> {
    this.stream ??= this.client.instream();
    return this.stream.then((s) => s.write(chunk));
  }

  async finish(): Promise<Finding[]> {
    this.stream ??= this.client.instream();
    const verdict = await (await this.stream).end();
    if (verdict.kind === 'clean') return [];
    if (verdict.kind === 'found') {
      return [{ scanner: 'clamav', rule: verdict.signature, message: `ClamAV found ${verdict.signature}` }];
    }
    return [
      {
        scanner: 'clamav',
        rule: 'not-scanned',
        message: `clamd did not read it to its end: ${verdict.reason}`,
      },
    ];
  }
}
