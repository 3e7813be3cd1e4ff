import { createHash } from 'node:crypto';
import type { ScanOutcome, StoredSession } from '../ports.ts';
import { BUILTIN } from './builtinEngines.ts';
import { ConflictError } from './errors.ts';
import { EVENT_TYPES, emitEvent, storeEvent, versionData, versionSubject } from './events.ts';
import { finishInterruptedDeletions } from './gc.ts';
import type { ContentSummary, EngineRun, Finding, ScanReport, SessionFile } from './model.ts';
import type { ScanDeps, ScanResult } from './scan.ts';
import { ScanEngineError } from './scanErrors.ts';
import type { FoundSbom, Scanner } from './scanners.ts';
import { matchComponents } from './vulns/osv.ts';

/*
 * The scan of one file, wherever its bytes were staged (its own object, or its slice of a pack):
 * the same checks, verdict, quarantine and CAS move for both, so a pack is no weaker than a PUT.
 */

/** One staged file to scan: its own staged object, or its slice of the session's pack. */
export interface StagedFile {
  readonly session: Omit<StoredSession, 'files'>;
  readonly fileIndex: number;
  readonly file: SessionFile;
  /** The file's bytes as uploaded; null when they are gone. */
  read(): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array> | null>;
  /** Puts the verified bytes in CAS; false when the staged bytes are gone (aborted or expired). */
  store(sha256: string): Promise<boolean>;
}

/** What scanning one file did; `gone`: its staged bytes were dropped, nothing was recorded. */
export interface FileScan {
  readonly result: ScanResult | 'gone';
  /** The version may have turned `available` with this verdict (or an earlier one): sign it. */
  readonly sign: boolean;
}

/**
 * Scans one file and records its verdict; an engine that could not scan leaves the file's scan
 * `error` recorded and throws, so the step is retried.
 */
export async function scanFile(deps: ScanDeps, target: StagedFile): Promise<FileScan> {
  try {
    return await scanFileOnce(deps, target);
  } catch (error) {
    if (error instanceof ScanEngineError) await recordEngineError(deps, target, error);
    throw error;
  }
}

/**
 * An engine could not scan: the file shows scan `error` naming it, and stays `pending` with its staged
 * bytes; the step still fails, so it is retried (SQS redelivery, the embedded queue's backoff) and
 * the retry's verdict replaces the error. Failing to record it changes nothing: the retry records it.
 */
async function recordEngineError(deps: ScanDeps, target: StagedFile, error: ScanEngineError): Promise<void> {
  const report: ScanReport = {
    status: 'error',
    findings: [],
    scannedAt: deps.clock.now().toISOString(),
    error: { engine: error.engine, message: error.message },
  };
  await deps.index.recordScanError(target.session.uploadId, target.fileIndex, report).catch(() => false);
}

async function scanFileOnce(deps: ScanDeps, target: StagedFile): Promise<FileScan> {
  const { file, fileIndex } = target;
  const session = { ...target.session, fileName: file.name };
  if (file.verdict) {
    // A redelivery after the outcome was recorded, perhaps because signing failed after it: the
    // redelivery signs. A rejection's event goes now if the process died before it went out (same
    // id, once).
    if (file.verdict === 'verified') return { result: 'skipped', sign: true };
    const findings = file.rejection?.findings ?? [];
    const verdict = findings.some((f) => f.scanner === 'digest') ? 'rejected' : 'infected';
    await quarantined(deps, session, fileIndex, verdict, findings, false);
    return { result: 'skipped', sign: false };
  }
  const outcome = (verdict: ScanOutcome['verdict'], report: ScanReport): ScanOutcome => ({
    uploadId: session.uploadId,
    fileIndex,
    sha256: file.sha256,
    size: file.size,
    verdict,
    report,
    at: deps.clock.now(),
  });

  // Absent: aborted or expired since the event, or deleted after an earlier delivery recorded its
  // verdict. Staged bytes are deleted only after the verdict, so there is nothing to scan.
  const stream = await target.read();
  if (!stream) return { result: 'gone', sign: false };

  let engines: readonly EngineRun[] | undefined;
  let known: Awaited<ReturnType<typeof knownVulnerabilities>> | undefined;
  const hash = createHash('sha256');
  const passes = deps.scanners.map((s) => s.start());
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buf.length;
    hash.update(buf);
    for (const p of passes) {
      const pending = p.update(buf);
      if (pending) await pending;
    }
  }
  const sha256 = hash.digest('hex');

  if (sha256 !== file.sha256 || size !== file.size) {
    const finding: Finding = {
      scanner: 'digest',
      rule: size !== file.size ? 'size-mismatch' : 'digest-mismatch',
      message: `uploaded ${size} bytes hashing to ${sha256}; declared ${file.size} bytes, ${file.sha256}`,
    };
    await deps.index.recordScan(outcome('rejected', report('infected', [finding])));
    await quarantined(deps, session, fileIndex, 'rejected', [finding]);
    return { result: 'rejected', sign: false };
  }
  const findings = withoutEchoes((await Promise.all(passes.map((p) => p.finish()))).flat());
  const contents = Object.assign({}, ...passes.map((p) => p.contents?.() ?? {})) as ContentSummary;
  engines = await engineRuns(deps.scanners);
  const sboms = passes.flatMap((p) => p.sboms?.() ?? []);
  known = await knownVulnerabilities(deps, sboms);
  if (known.engine) engines = [...engines, known.engine];
  if (findings.length > 0) {
    await deps.index.recordScan(outcome('infected', report('infected', findings, contents)));
    await quarantined(deps, session, fileIndex, 'infected', findings);
    return { result: 'infected', sign: false };
  }
  await pinBlob(deps, sha256, size, new Date(session.expiresAt));
  // The session was aborted or expired while it was read: its bytes are gone, nothing to record.
  if (!(await target.store(sha256))) return { result: 'gone', sign: false };
  const recorded = await deps.index.recordScan(outcome('verified', report('clean', [], contents)));
  deps.metrics?.count('scans', { verdict: 'verified' });
  // The last file verified turns a committed version `available`: sign it now. A session still open
  // is signed through its commit (conditioned on the revision this verdict moved, the commit sees
  // it), and one with files still waiting by the scan of the last of them. A verdict another delivery
  // recorded first leaves no count: look at the version, as before.
  const sign = !recorded.recorded || (recorded.sessionState !== 'open' && recorded.awaitingScan === 0);
  return { result: 'verified', sign };

  function report(status: ScanReport['status'], list: Finding[], contents: ContentSummary = {}): ScanReport {
    const listed = Object.keys(contents).length > 0 ? { contents } : {};
    const ran = engines ? { engines } : {};
    const at = deps.clock.now().toISOString();
    return { status, findings: list, scannedAt: at, ...listed, ...ran, ...known?.report };
  }
}

/**
 * What ran, for the report: each scanner's engines (asked after the passes, so a database reloaded
 * during the scan is the one named), once each by name. The digest check always runs.
 */
async function engineRuns(scanners: readonly Scanner[]): Promise<EngineRun[]> {
  const runs: EngineRun[] = [{ name: 'digest', version: 'sha256' }];
  for (const scanner of scanners) {
    for (const run of (await scanner.engines?.()) ?? [{ name: scanner.name, version: BUILTIN }]) {
      if (!runs.some((r) => r.name === run.name)) runs.push(run);
    }
  }
  return runs;
}

/**
 * The components of the SBOMs the passes read, kept in the report (so a new database can be matched
 * again without the bytes), and their known vulnerabilities when an advisory database is configured.
 */
async function knownVulnerabilities(
  deps: ScanDeps,
  sboms: readonly FoundSbom[],
): Promise<{ report: Pick<ScanReport, 'components' | 'vulnerabilities'>; engine?: EngineRun }> {
  const purls = [...new Set(sboms.flatMap((s) => s.components.map((c) => c.purl)))];
  if (purls.length === 0) return { report: {} };
  const components = { components: purls.slice(0, MAX_COMPONENTS_KEPT) };
  if (!deps.advisories) return { report: components };
  const index = await deps.advisories.current().catch((error: unknown) => {
    throw new ScanEngineError('osv', `the advisory database cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  });
  const vulnerabilities = matchComponents(index, purls, deps.clock.now());
  return { report: { ...components, vulnerabilities }, engine: index.engine() };
}

/** Purls kept per file: enough for real SBOMs, small enough for one index item. */
const MAX_COMPONENTS_KEPT = 2000;

/**
 * A signature found in the raw bytes of an archive is usually the one the archive pass also found
 * inside it, named by its entry: the path-less echo is dropped, so the report says where it is once.
 */
function withoutEchoes(findings: Finding[]): Finding[] {
  const located = new Set(findings.filter((f) => f.path !== undefined).map((f) => `${f.scanner}\0${f.rule}`));
  return findings.filter((f) => f.path !== undefined || !located.has(`${f.scanner}\0${f.rule}`));
}

/**
 * Counts the verdict and emits `version.quarantined` for the session's version. A redelivery finds
 * the verdict recorded and returns before this, and the event id (upload, file) dedupes the rest.
 */
async function quarantined(
  deps: ScanDeps,
  session: { uploadId: string; namespace: string; package: string; version: string; fileName: string | null },
  fileIndex: number,
  verdict: 'rejected' | 'infected',
  findings: readonly Finding[],
  counted = true,
): Promise<void> {
  if (counted) deps.metrics?.count('scans', { verdict });
  await emitEvent(
    deps,
    storeEvent({
      type: EVENT_TYPES.quarantined,
      change: [session.uploadId, String(fileIndex)],
      namespace: session.namespace,
      subject: versionSubject(session),
      time: deps.clock.now(),
      data: {
        ...versionData(session),
        uploadId: session.uploadId,
        file: session.fileName,
        verdict,
        findings: findings.map((f) => ({ scanner: f.scanner, rule: f.rule })),
      },
    }),
  );
}

/**
 * Pins the blob; when a killed GC run left it `deleting`, finishes that deletion first (unless a live
 * run holds the GC lock: then the scan fails and is retried once that run has finished it).
 */
async function pinBlob(deps: ScanDeps, sha256: string, size: number, until: Date): Promise<void> {
  try {
    await deps.index.pinBlob(sha256, size, until);
  } catch (error) {
    if (!(error instanceof ConflictError) || error.details?.reason !== 'blobDeleting') throw error;
    if (!(await finishInterruptedDeletions(deps, [sha256], 'scan'))) throw error;
    await deps.index.pinBlob(sha256, size, until);
  }
}
