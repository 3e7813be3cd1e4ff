import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { type ArcaApp, createArcaApp } from '../../infra/arcaApp.ts';

export const PUBLIC_KEY_FILE = fileURLToPath(new URL('./fixtures/signing-public.pem', import.meta.url));
const CDK_JSON = fileURLToPath(new URL('../../cdk.json', import.meta.url));

/** The context `cdk synth` would see: cdk.json's feature flags, plus ours. */
export function cdkContext(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { context } = JSON.parse(readFileSync(CDK_JSON, 'utf8')) as { context: Record<string, unknown> };
  return { ...context, account: '111111111111', region: 'us-east-1', replicaRegion: 'us-west-2', ...extra };
}

export interface SynthesizedArca extends ArcaApp {
  readonly template: Template;
  readonly replicaTemplate: Template;
}

/**
 * The full store (CloudFront with its generated key pair, replication, CI role) synthesized once, from
 * the default context plus `extra`. Bundling is skipped here to keep the suite fast;
 * test/infra/synth.test.ts runs the real `cdk synth` with esbuild.
 */
export function synthArca(extra: Record<string, unknown> = {}, bundle = false): SynthesizedArca {
  const arca = createArcaApp({
    // CDK's built-in template schema check takes ~10 s; `cdk synth` (synth.test.ts) still runs it.
    builtinCloudFormationValidation: false,
    context: cdkContext({
      githubRepository: 'acme/widgets',
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...extra,
    }),
  });
  return {
    ...arca,
    template: Template.fromStack(arca.primary),
    replicaTemplate: Template.fromStack(arca.replica),
  };
}

/** Every resource of one type, as `[logicalId, resource]`. */
export function resourcesOf(
  template: Template,
  type: string,
): [string, { Properties: Record<string, unknown> }][] {
  return Object.entries(template.findResources(type)) as [string, { Properties: Record<string, unknown> }][];
}

/** The environment variables of the function whose description matches. */
export function functionEnvironment(template: Template, description: RegExp): Record<string, unknown> {
  const fn = resourcesOf(template, 'AWS::Lambda::Function').find(([, r]) =>
    description.test(String(r.Properties.Description)),
  );
  if (!fn) throw new Error(`no function described ${description}`);
  return (fn[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

/**
 * `cdk deploy --all -c account=… -c region=… -c replicaRegion=…` and nothing else (plus `extra`): the
 * default synth, with no CI role and no key file. Bundling is skipped as in `synthArca`.
 */
export function defaultSynth(extra: Record<string, unknown> = {}): SynthesizedArca {
  const arca = createArcaApp({
    builtinCloudFormationValidation: false,
    context: cdkContext({ 'aws:cdk:bundling-stacks': [], ...extra }),
  });
  return {
    ...arca,
    template: Template.fromStack(arca.primary),
    replicaTemplate: Template.fromStack(arca.replica),
  };
}
