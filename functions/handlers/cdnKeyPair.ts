import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type CdnKeyPairEvent, handleCdnKeyPairEvent } from '../adapters/aws/cdnKeyPair.ts';

/**
 * onEvent handler of the CloudFront key-pair custom resource (CDK's provider framework sends the
 * CloudFormation response; this returns the physical id and the public key).
 */
export const handler = (event: CdnKeyPairEvent) => handleCdnKeyPairEvent(event, new SecretsManagerClient({}));
