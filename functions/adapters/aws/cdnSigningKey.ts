import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
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
  const publicKeySha256 = env[ENV.cdnPublicKeySha256];
  return new CloudFrontDownloads({
    domain,
    keyPairId,
    onKeyUnavailable,
    ...(publicKeySha256 ? { publicKeySha256 } : {}),
    loadPrivateKey: async () => {
      const secret = await secrets().send(new GetSecretValueCommand({ SecretId: secretId }));
      return secret.SecretString;
    },
  });
}

/** The metric (namespace `Arca`, dimension `service`) counting loads that found no usable key. */
export const CDN_KEY_METRIC = {
  namespace: 'Arca',
  service: 'arca-cdn',
  name: 'CdnKeyUnavailable',
} as const;

/**
 * One CloudWatch embedded-metric-format line counting a fallback to S3 URLs (the stack alarms on it),
 * serialized by Powertools, as the handlers' other metrics are.
 */
export function reportCdnKeyUnavailable(write: (line: string) => void = console.log): void {
  const metrics = new Metrics({ namespace: CDN_KEY_METRIC.namespace, serviceName: CDN_KEY_METRIC.service });
  metrics.addMetric(CDN_KEY_METRIC.name, MetricUnit.Count, 1);
  write(JSON.stringify(metrics.serializeMetrics()));
  metrics.clearMetrics();
}
