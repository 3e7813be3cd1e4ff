import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ENV } from '../../config/env.ts';
import { CloudFrontDownloads } from './cloudFrontUrls.ts';

/**
 * CloudFront downloads as the stack configures them (`BlobCdn.grantSign` sets the three variables),
 * the private key read from Secrets Manager on first use; undefined when the store has no CDN.
 */
export function cdnFromEnv(
  env: NodeJS.ProcessEnv,
  secrets: () => SecretsManagerClient,
  onKeyUnavailable: (reason: string) => void,
): CloudFrontDownloads | undefined {
  const domain = env[ENV.cdnDomain];
  const keyPairId = env[ENV.cdnKeyPairId];
  const secretId = env[ENV.cdnPrivateKeySecretArn];
  if (!domain || !keyPairId || !secretId) return undefined;
  return new CloudFrontDownloads({
    domain,
    keyPairId,
    onKeyUnavailable,
    loadPrivateKey: async () => {
      const secret = await secrets().send(new GetSecretValueCommand({ SecretId: secretId }));
      return secret.SecretString;
    },
  });
}
