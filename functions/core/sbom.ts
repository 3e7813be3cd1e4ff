import { HeadBytes } from './headBytes.ts';
import type { ContentSummary, Finding, SbomSummary } from './model.ts';
import type { Scanner, ScanPass } from './scanners.ts';

/** SBOM documents say what they are near the top; this much of the file is looked at. */
const HEAD_BYTES = 64 * 1024;

/**
 * Recognises a file that is itself a software bill of materials (CycloneDX JSON or XML, SPDX JSON
 * or tag-value), so a version's SBOM shows in its scan report. It only reads the first 64 KiB and
 * finds nothing wrong: an SBOM is information, not a verdict.
 */
export const sbomScanner: Scanner = {
  name: 'sbom',
  start: () => new SbomPass(),
};

class SbomPass implements ScanPass {
  private readonly head = new HeadBytes(HEAD_BYTES);

  update(chunk: Buffer): void {
    this.head.add(chunk);
  }

  finish(): Finding[] {
    return [];
  }

  contents(): ContentSummary {
    const sbom = recogniseSbom(this.head.take().subarray(0, HEAD_BYTES).toString('utf8'));
    return sbom ? { sbom } : {};
  }
}

/** The SBOM format a document's opening declares, or undefined. */
export function recogniseSbom(text: string): SbomSummary | undefined {
  const start = text.trimStart();
  if (start.startsWith('{')) {
    if (/"bomFormat"\s*:\s*"CycloneDX"/.test(start)) {
      return withVersion('CycloneDX', /"specVersion"\s*:\s*"([^"]{1,20})"/.exec(start)?.[1]);
    }
    const spdx = /"spdxVersion"\s*:\s*"SPDX-([^"]{1,20})"/.exec(start);
    return spdx ? withVersion('SPDX', spdx[1]) : undefined;
  }
  if (start.startsWith('<')) {
    const cdx = /<bom\b[^>]*xmlns="http:\/\/cyclonedx\.org\/schema\/bom\/([0-9.]{1,10})"/.exec(start);
    return cdx ? withVersion('CycloneDX', cdx[1]) : undefined;
  }
  const tagValue = /^SPDXVersion:\s*SPDX-(\S{1,20})/m.exec(start);
  return tagValue ? withVersion('SPDX', tagValue[1]) : undefined;
}

const withVersion = (format: SbomSummary['format'], specVersion: string | undefined): SbomSummary =>
  specVersion ? { format, specVersion } : { format };
