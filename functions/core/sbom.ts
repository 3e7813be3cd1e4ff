import { looksLikeSbom } from './archive/entryRules.ts';
import { HeadBytes } from './headBytes.ts';
import type { ContentSummary, Finding, SbomSummary } from './model.ts';
import type { FoundSbom, PassContext, Scanner, ScanPass } from './scanners.ts';
import { componentsOf } from './vulns/sbomComponents.ts';

/** SBOM documents say what they are near the top; this much of the file is looked at. */
const HEAD_BYTES = 64 * 1024;
/** A JSON SBOM is read whole up to this size, to list its components; a larger one is only recognised. */
const MAX_SBOM_BYTES = 32 * 2 ** 20;

/**
 * Recognises a file that is itself a software bill of materials (CycloneDX JSON or XML, SPDX JSON
 * or tag-value), so a version's SBOM shows in its scan report, and reads the components of a JSON
 * one (CycloneDX, SPDX 2.x) to match against advisories. Run on the uploaded file and on every file
 * inside its archives. It finds nothing wrong: an SBOM is information, not a verdict.
 */
export const sbomScanner: Scanner = {
  name: 'sbom',
  start: (context?: PassContext) => new SbomPass(context?.path),
};

class SbomPass implements ScanPass {
  private readonly head = new HeadBytes(HEAD_BYTES);
  /** The whole document while it may be a JSON SBOM worth reading; undefined once it is not. */
  private body: Buffer[] | undefined = [];
  private bodyBytes = 0;
  private decided = false;

  constructor(private readonly path: string | undefined) {}

  update(chunk: Buffer): void {
    this.head.add(chunk);
    if (!this.body) return;
    this.body.push(chunk);
    this.bodyBytes += chunk.length;
    if (this.bodyBytes > MAX_SBOM_BYTES) this.body = undefined;
    else if (!this.decided && this.bodyBytes >= 1024) this.decide();
  }

  finish(): Finding[] {
    if (!this.decided) this.decide();
    return [];
  }

  contents(): ContentSummary {
    const sbom = recogniseSbom(this.head.take().subarray(0, HEAD_BYTES).toString('utf8'));
    return sbom ? { sbom } : {};
  }

  sboms(): readonly FoundSbom[] {
    if (!this.body) return [];
    const text = Buffer.concat(this.body).toString('utf8');
    this.body = undefined;
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      return [];
    }
    const found = componentsOf(document);
    return found ? [{ ...found, ...(this.path ? { path: this.path } : {}) }] : [];
  }

  /** Keeps the bytes only of what starts like a JSON SBOM (or is named like one inside an archive). */
  private decide(): void {
    this.decided = true;
    const start = Buffer.concat(this.body ?? [])
      .subarray(0, 4096)
      .toString('utf8')
      .trimStart();
    const named = this.path !== undefined && looksLikeSbom(this.path);
    if (!start.startsWith('{') || (!named && !/"(bomFormat|spdxVersion)"\s*:/.test(start)))
      this.body = undefined;
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
