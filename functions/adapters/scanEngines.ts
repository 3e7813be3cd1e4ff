import { ENV } from '../config/env.ts';
import { archiveScanner } from '../core/archive/archiveScanner.ts';
import { sbomScanner } from '../core/sbom.ts';
import { eicarScanner, type Scanner, secretScanner } from '../core/scanners.ts';
import type { AdvisorySource } from '../core/vulns/osv.ts';
import { clamavScanner } from './clamav/clamavScanner.ts';
import { ClamdClient, parseClamdAddress } from './clamav/clamdClient.ts';
import { OsvDatabaseFiles } from './osvDatabase.ts';

/**
 * The scan engines this deployment runs, from its environment: Arca's own rule sets always, and
 * ClamAV when `ARCA_CLAMD` names a clamd. Both backends build their scanners here, so the local
 * server and the scan Lambda run the same engines for the same settings. A malformed setting fails
 * at start-up, naming the variable: a store that was meant to run ClamAV must not run without it.
 */
export function scannersFromEnv(env: NodeJS.ProcessEnv = process.env): readonly Scanner[] {
  const clamd = env[ENV.clamd];
  const engines = clamd ? [clamavScanner(new ClamdClient(parseClamdAddress(clamd)))] : [];
  return [
    eicarScanner,
    secretScanner,
    archiveScanner({ inner: [eicarScanner, secretScanner, sbomScanner, ...engines], root: engines }),
    sbomScanner,
  ];
}

/** The advisory database `ARCA_OSV_DB` names (a directory or zip of OSV JSON), or undefined. */
export function advisoriesFromEnv(env: NodeJS.ProcessEnv = process.env): AdvisorySource | undefined {
  const path = env[ENV.osvDb];
  return path ? new OsvDatabaseFiles(path) : undefined;
}

/** `{ advisories }` when there is a database, else nothing (the deps field is optional). */
export const withAdvisories = (advisories: AdvisorySource | undefined): { advisories?: AdvisorySource } =>
  advisories ? { advisories } : {};
