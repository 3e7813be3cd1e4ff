import type { Context, SQSEvent } from 'aws-lambda';
import { awsClients } from '../adapters/aws/clients.ts';
import {
  type ClamdInLambda,
  downloadDefinitions,
  runFreshclam,
  startClamd,
  uploadDefinitions,
} from '../adapters/clamav/clamavDefinitions.ts';
import { ENV, requireEnv } from '../config/env.ts';
import { handler as scanHandler } from './scan.ts';

/**
 * Entry points of the ClamAV container image (infra/clamav/Dockerfile): the scan with a clamd of its
 * own, and the scheduled definitions refresh. Both read the definitions bucket the stack names.
 */

const DEFINITIONS_DIR = '/tmp/clamav';
let clamd: Promise<ClamdInLambda> | undefined;

/** The scan step, after this instance's clamd is up on the bucket's definitions (once per instance). */
export async function scan(event: SQSEvent, context: Context) {
  clamd ??= (async () => {
    await downloadDefinitions(awsClients().s3, requireEnv(ENV.clamavDefinitionsBucket), DEFINITIONS_DIR);
    return startClamd(DEFINITIONS_DIR);
  })().catch((error: unknown) => {
    clamd = undefined; // the next invocation tries again
    throw error;
  });
  const running = await clamd;
  if (running.process.exitCode !== null) {
    clamd = undefined; // it died: this batch fails and is redelivered, the next invocation restarts it
    throw new Error(`clamd exited with ${running.process.exitCode}`);
  }
  // scannersFromEnv reads it when the scan's dependencies are first built, which is after this.
  process.env[ENV.clamd] = running.address;
  return scanHandler(event, context);
}

/** EventBridge schedule → freshclam on the bucket's current definitions, and the new ones back into it. */
export async function refresh(): Promise<{ definitions: string[] }> {
  const bucket = requireEnv(ENV.clamavDefinitionsBucket);
  const s3 = awsClients().s3;
  await downloadDefinitions(s3, bucket, DEFINITIONS_DIR);
  await runFreshclam(DEFINITIONS_DIR);
  return { definitions: await uploadDefinitions(s3, bucket, DEFINITIONS_DIR) };
}
