import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { type CdnKeyPairEvent, handleCdnKeyPairEvent } from '../../functions/adapters/aws/cdnKeyPair.ts';
import { CDN_KEY_METRIC } from '../../functions/adapters/aws/cdnSigningKey.ts';
import { publicKeySha256 } from '../../functions/adapters/aws/cloudFrontUrls.ts';
import { awsDeps } from '../../functions/adapters/aws/deps.ts';
import { loadRuntimeSecrets } from '../../functions/adapters/aws/runtimeSecrets.ts';
import { freshResources, motoClients } from './awsFixtures.ts';
import { useMoto } from './moto.ts';

useMoto();

/** A secret as the stack creates it: CloudFormation fills it with a generated password. */
async function newSecret(name: string): Promise<string> {
  const created = await motoClients().secretsManager.send(
    new CreateSecretCommand({ Name: name, SecretString: 'generated-password' }),
  );
  return created.ARN!;
}

const event = (
  RequestType: CdnKeyPairEvent['RequestType'],
  secretArn: string,
  generation: string,
  old?: string,
): CdnKeyPairEvent => ({
  RequestType,
  ResourceProperties: { SecretArn: secretArn, Generation: generation },
  ...(old ? { OldResourceProperties: { SecretArn: secretArn, Generation: old } } : {}),
  ...(RequestType === 'Create' ? {} : { PhysicalResourceId: `${secretArn}#generation-${old ?? generation}` }),
});

async function secretValue(arn: string): Promise<string> {
  const { SecretString } = await motoClients().secretsManager.send(
    new GetSecretValueCommand({ SecretId: arn }),
  );
  return SecretString!;
}

describe('the CloudFront key-pair custom resource', () => {
  it('on create, writes an RSA private key to the secret and returns its public half and fingerprint', async () => {
    const secrets = motoClients().secretsManager;
    const arn = await newSecret('cdn-create');

    const result = await handleCdnKeyPairEvent(event('Create', arn, '1'), secrets);

    const privatePem = await secretValue(arn);
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const derived = createPublicKey(privatePem);
    expect(derived.asymmetricKeyType).toBe('rsa');
    expect(derived.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(result.Data?.PublicKeyPem).toBe(derived.export({ type: 'spki', format: 'pem' }).toString());
    expect(result.Data?.PublicKeySha256).toBe(publicKeySha256(privatePem));
    expect(result.PhysicalResourceId).toBe(`${arn}#generation-1`);
    expect(JSON.stringify(result)).not.toMatch(/PRIVATE KEY/);
  });

  it('keeps the pair on an update of the same generation, and makes a new one on a bump', async () => {
    const secrets = motoClients().secretsManager;
    const arn = await newSecret('cdn-rotate');
    const created = await handleCdnKeyPairEvent(event('Create', arn, '1'), secrets);
    const firstKey = await secretValue(arn);

    const same = await handleCdnKeyPairEvent(event('Update', arn, '1', '1'), secrets);
    expect(await secretValue(arn)).toBe(firstKey);
    expect(same).toEqual(created);

    const rotated = await handleCdnKeyPairEvent(event('Update', arn, '2', '1'), secrets);
    expect(await secretValue(arn)).not.toBe(firstKey);
    expect(rotated.Data?.PublicKeySha256).not.toBe(created.Data?.PublicKeySha256);
    expect(rotated.Data?.PublicKeySha256).toBe(publicKeySha256(await secretValue(arn)));
    // A new physical id: CloudFormation then deletes the old one, which touches nothing.
    expect(rotated.PhysicalResourceId).toBe(`${arn}#generation-2`);
    const deleted = await handleCdnKeyPairEvent(event('Delete', arn, '1'), secrets);
    expect(deleted.PhysicalResourceId).toBe(`${arn}#generation-1`);
    expect(publicKeySha256(await secretValue(arn))).toBe(rotated.Data?.PublicKeySha256);
  });

  it('fails without the secret ARN, and when the secret does not exist', async () => {
    const secrets = motoClients().secretsManager;
    await expect(handleCdnKeyPairEvent(event('Create', '', '1'), secrets)).rejects.toThrow(/SecretArn/);
    await expect(
      handleCdnKeyPairEvent(
        event('Create', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf', '1'),
        secrets,
      ),
    ).rejects.toThrow();
  });
});

describe('downloads when the signing key does not match the key group', () => {
  const sha = 'cd'.repeat(32);

  it('serve S3 presigned URLs and count CdnKeyUnavailable; the matching key serves CloudFront URLs', async () => {
    const clients = motoClients();
    const resources = await freshResources(clients);
    const arn = await newSecret(`cdn-mismatch-${resources.bucket}`);
    const deployed = await handleCdnKeyPairEvent(event('Create', arn, '1'), clients.secretsManager);
    const env = (fingerprint: string) => ({
      ...process.env,
      ARCA_BUCKET: resources.bucket,
      ARCA_TABLE: resources.table,
      ARCA_CDN_DOMAIN: 'd111111abcdef8.cloudfront.net',
      ARCA_CDN_KEY_PAIR_ID: 'K2JCJMDEHXQW5F',
      ARCA_CDN_PRIVATE_KEY_SECRET_ARN: arn,
      ARCA_CDN_PUBLIC_KEY_SHA256: fingerprint,
    });
    const soon = new Date(Date.now() + 300_000);
    // The key group trusts another key than the one in the secret (a PEM pasted by hand, say).
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const warnings: string[] = [];
    const metricLines: string[] = [];

    const mismatched = new URL(
      await awsDeps(env(publicKeySha256(otherKey)), {
        clients,
        warn: (m) => warnings.push(m),
        metricLine: (line) => metricLines.push(line),
      }).blobs.signDownload(sha, 'app.tar.gz', 'application/gzip', soon),
    );
    const matched = new URL(
      await awsDeps(env(deployed.Data!.PublicKeySha256), {
        clients,
        metricLine: (line) => metricLines.push(line),
      }).blobs.signDownload(sha, 'app.tar.gz', 'application/gzip', soon),
    );

    expect(mismatched.origin).toBe(process.env.AWS_ENDPOINT_URL);
    expect(warnings).toEqual([expect.stringMatching(/does not match the distribution's public key/)]);
    expect(metricLines).toHaveLength(1);
    const emf = JSON.parse(metricLines[0]!);
    expect(emf[CDN_KEY_METRIC.name]).toBe(1);
    expect(emf.service).toBe(CDN_KEY_METRIC.service);
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe(CDN_KEY_METRIC.namespace);
    expect(matched.origin).toBe('https://d111111abcdef8.cloudfront.net');
    expect(matched.searchParams.get('Key-Pair-Id')).toBe('K2JCJMDEHXQW5F');
  });
});

describe('secrets read at run time', () => {
  it('puts the cursor secret named by ARN into the process, once, and fails closed on a missing one', async () => {
    const clients = motoClients();
    const arn = (
      await clients.secretsManager.send(
        new CreateSecretCommand({ Name: 'cursor-runtime', SecretString: 'a'.repeat(64) }),
      )
    ).ARN!;
    const env: NodeJS.ProcessEnv = { ARCA_CURSOR_SECRET_ARN: arn };

    await loadRuntimeSecrets(env, () => clients.secretsManager);
    expect(env.ARCA_CURSOR_SECRET).toBe('a'.repeat(64));

    const missing: NodeJS.ProcessEnv = {
      ARCA_CURSOR_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf',
    };
    await expect(loadRuntimeSecrets(missing, () => clients.secretsManager)).rejects.toThrow();
    expect(missing.ARCA_CURSOR_SECRET).toBeUndefined();
  });

  it('lets a process that never pages (scan) start without any cursor secret', async () => {
    const clients = motoClients();
    const resources = await freshResources(clients);
    const env = {
      ARCA_BUCKET: resources.bucket,
      ARCA_TABLE: resources.table,
      AWS_REGION: 'us-east-1',
    } as NodeJS.ProcessEnv;
    const deps = awsDeps(env, { clients });
    expect(deps.index).toBeDefined();
    // Only paging asks for the key: on AWS (no emulator endpoint) without one, that fails closed.
    expect(() => deps.cursors.encode('scope', 'position')).toThrow(/ARCA_CURSOR_SECRET/);
  });
});
