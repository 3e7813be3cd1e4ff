import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type middy from '@middy/core';
import { ENV } from '../../config/env.ts';
import { awsClients } from './clients.ts';

/**
 * Secrets the stack names by ARN (`ARCA_CURSOR_SECRET_ARN`) and a function reads at run time, so no
 * secret value is ever part of a function's configuration (visible to `lambda:GetFunction`). The
 * value is put in this process's `env` under the name the wiring reads (`ARCA_CURSOR_SECRET`), once:
 * a failed read throws, so the invocation fails closed and the next one tries again.
 */
export async function loadRuntimeSecrets(
  env: NodeJS.ProcessEnv,
  secrets: () => SecretsManagerClient,
): Promise<void> {
  const arn = env[ENV.cursorSecretArn];
  if (!arn || env[ENV.cursorSecret]) return;
  const { SecretString: value } = await secrets().send(new GetSecretValueCommand({ SecretId: arn }));
  if (!value) throw new Error(`secret ${arn} (${ENV.cursorSecretArn}) holds no string value`);
  env[ENV.cursorSecret] = value;
}

/** Middy middleware running `loadRuntimeSecrets` before the handler, on `process.env`. */
export function runtimeSecrets(
  env: NodeJS.ProcessEnv = process.env,
  secrets: () => SecretsManagerClient = () => awsClients().secretsManager,
): middy.MiddlewareObj {
  return { before: () => loadRuntimeSecrets(env, secrets) };
}
