/**
 * `npx cdk synth` / `npx cdk deploy` entry point (see cdk.json and docs/deploy.md).
 * The CLI sets CDK_OUTDIR, so the app synthesises itself when the process exits.
 */
import { createArcaApp } from './arcaApp.ts';

createArcaApp();
