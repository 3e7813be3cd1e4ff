import { generateKeyPairSync } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { awsDeps } from '../../functions/adapters/aws/deps.ts';
import { freshResources, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

const sha = 'ab'.repeat(32);

describe('downloads through CloudFront, on the variables the stack sets', () => {
  it('serves S3 URLs while the secret holds no key, and CloudFront URLs once the PEM is put in', async () => {
    const clients = motoClients();
    const resources = await freshResources(clients);
    // The stack's secret starts with a generated password: the operator puts the PEM in after deploy.
    const created = await clients.secretsManager.send(
      new CreateSecretCommand({ Name: `arca-cdn-${resources.bucket}`, SecretString: 'generated-password' }),
    );
    const warnings: string[] = [];
    const env = {
      ...process.env,
      ARCA_BUCKET: resources.bucket,
      ARCA_TABLE: resources.table,
      ARCA_CURSOR_SECRET: 'cdn-test',
      ARCA_CDN_DOMAIN: 'd111111abcdef8.cloudfront.net',
      ARCA_CDN_KEY_PAIR_ID: 'K2JCJMDEHXQW5F',
      ARCA_CDN_PRIVATE_KEY_SECRET_ARN: created.ARN!,
    };
    const soon = new Date(Date.now() + 300_000);

    const before = new URL(
      await awsDeps(env, { clients, warn: (m) => warnings.push(m) }).blobs.signDownload(
        sha,
        'app.tar.gz',
        'application/gzip',
        soon,
      ),
    );
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    await clients.secretsManager.send(
      new PutSecretValueCommand({ SecretId: created.ARN!, SecretString: pem.toString() }),
    );
    const after = new URL(
      await awsDeps(env, { clients }).blobs.signDownload(sha, 'app.tar.gz', 'application/gzip', soon),
    );

    expect(before.origin).toBe(process.env.AWS_ENDPOINT_URL);
    expect(warnings).toHaveLength(1);
    expect(after.origin).toBe('https://d111111abcdef8.cloudfront.net');
    expect(after.pathname).toBe(`/blobs/sha256/ab/${sha}`);
    expect(after.searchParams.get('response-content-disposition')).toBe('attachment; filename="app.tar.gz"');
    expect(after.searchParams.get('response-content-type')).toBe('application/gzip');
    expect(after.searchParams.get('Key-Pair-Id')).toBe('K2JCJMDEHXQW5F');
  });
});
