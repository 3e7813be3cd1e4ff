import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { publicKeySha256 } from './cloudFrontUrls.ts';

/**
 * The CloudFront signing key pair, made inside AWS at deploy time by a CloudFormation custom resource
 * (infra/constructs/cdnKeyPair.ts): the private key goes to Secrets Manager and never leaves AWS, the
 * public key is returned for the distribution's key group. Bumping `Generation` (context
 * `cdnKeyGeneration`) makes a new pair; any other update keeps the current one.
 */
export interface CdnKeyPairProperties {
  /** ARN of the secret the private key PEM is written to. */
  readonly SecretArn: string;
  /** Key generation; a new value means a new key pair. */
  readonly Generation: string;
}

/** The subset of the custom-resource provider framework's event the handler reads. */
export interface CdnKeyPairEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: CdnKeyPairProperties & { readonly ServiceToken?: string };
  readonly OldResourceProperties?: Partial<CdnKeyPairProperties>;
}

export interface CdnKeyPairResult {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly PublicKeyPem: string; readonly PublicKeySha256: string };
}

/** What CloudFront accepts for a trusted key group: RSA 2048, SPKI PEM; private half as PKCS#8 PEM. */
function generatePair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * Create, or an update that bumps the generation: a new pair, the private key written to the secret.
 * Any other update: the pair the secret holds (its public half derived again). Delete: nothing — the
 * secret is its own resource, with its own removal policy.
 */
export async function handleCdnKeyPairEvent(
  event: CdnKeyPairEvent,
  secrets: SecretsManagerClient,
): Promise<CdnKeyPairResult> {
  const { SecretArn: secretArn, Generation: generation } = event.ResourceProperties;
  if (!secretArn || !generation) throw new Error('SecretArn and Generation are required');
  const physicalId = `${secretArn}#generation-${generation}`;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };

  const keep =
    event.RequestType === 'Update' &&
    event.OldResourceProperties?.Generation === generation &&
    event.OldResourceProperties?.SecretArn === secretArn;
  if (keep) {
    const current = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
    const pem = current.SecretString;
    if (pem?.includes('PRIVATE KEY')) return result(physicalId, createPublicKey(pem));
    // The secret was overwritten with something that is not a key: make a new pair rather than fail.
  }
  const pair = generatePair();
  await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: pair.privateKeyPem }));
  return result(physicalId, createPublicKey(pair.publicKeyPem));
}

function result(physicalId: string, publicKey: KeyObject): CdnKeyPairResult {
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    PhysicalResourceId: physicalId,
    Data: { PublicKeyPem: publicKeyPem, PublicKeySha256: publicKeySha256(publicKey) },
  };
}
