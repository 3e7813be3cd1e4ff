/**
 * Environment variable names, shared by the runtime (local server, Lambda handlers) and the CDK
 * stack that sets them, so the two cannot disagree on a spelling.
 */
export const ENV = {
  /** `embedded` (default) or `aws`. */
  backend: 'ARCA_BACKEND',
  dataDir: 'ARCA_DATA_DIR',
  host: 'ARCA_HOST',
  port: 'ARCA_PORT',
  /** Base URL clients reach the local server at, for the signed URLs it hands out. */
  publicUrl: 'ARCA_PUBLIC_URL',
  adminToken: 'ARCA_ADMIN_TOKEN',
  /** Local server: a bearer token that may read `/metrics` and nothing else. */
  metricsToken: 'ARCA_METRICS_TOKEN',
  /** Local server: `1` lets webhooks reach loopback and private addresses (off: a namespace admin sets them). */
  webhookAllowPrivate: 'ARCA_WEBHOOK_ALLOW_PRIVATE',
  /** The EventBridge bus state-change events go to (set by the stack); unset, none are sent. */
  eventBus: 'ARCA_EVENT_BUS',
  bucket: 'ARCA_BUCKET',
  table: 'ARCA_TABLE',
  /** `minimal` (default) or `all`: which GSIs of the table the functions query (config/resources.ts `INDEX_NAMES`). */
  indexLayout: 'ARCA_INDEX_LAYOUT',
  scanQueue: 'ARCA_SCAN_QUEUE',
  /** The scan queue's URL: the API sends provenance requests there (set by the stack). */
  scanQueueUrl: 'ARCA_SCAN_QUEUE_URL',
  /**
   * KMS keys that sign the store's provenance, comma-separated ids or ARNs, oldest first: the last
   * signs, the others are listed as retired (set by the stack; an emulator makes its own).
   */
  signingKeys: 'ARCA_SIGNING_KEYS',
  /** Provision missing AWS resources at start-up (implied by AWS_ENDPOINT_URL). */
  provision: 'ARCA_PROVISION',
  maxFileSize: 'ARCA_MAX_FILE_SIZE',
  /** Largest file uploaded inside a pack when the client asks for one (default 65536 bytes). */
  packMaxFileSize: 'ARCA_PACK_MAX_FILE_SIZE',
  maxPageBytes: 'ARCA_MAX_PAGE_BYTES',
  sessionTtlSeconds: 'ARCA_SESSION_TTL_SECONDS',
  downloadTtlSeconds: 'ARCA_DOWNLOAD_TTL_SECONDS',
  /** Hours an unreferenced blob is kept before GC deletes its bytes (default 24). */
  blobGraceHours: 'ARCA_BLOB_GRACE_HOURS',
  /** Local server: seconds between scheduled GC runs; 0 turns the schedule off. */
  gcIntervalSeconds: 'ARCA_GC_INTERVAL_SECONDS',
  multipartThreshold: 'ARCA_MULTIPART_THRESHOLD',
  /** Secret (hex or text) that signs pagination cursors; on AWS read from the environment. */
  cursorSecret: 'ARCA_CURSOR_SECRET',
  /**
   * On AWS: the Secrets Manager secret holding the cursor key, read at run time by the functions
   * that page (api, gc) so the value is never in a function's configuration.
   */
  cursorSecretArn: 'ARCA_CURSOR_SECRET_ARN',
  /** CloudFront downloads (set by the stack's `BlobCdn.grantSign`): the distribution's domain… */
  cdnDomain: 'ARCA_CDN_DOMAIN',
  /** …the id of the public key in its key group… */
  cdnKeyPairId: 'ARCA_CDN_KEY_PAIR_ID',
  /** …and the Secrets Manager secret holding the matching PEM private key. */
  cdnPrivateKeySecretArn: 'ARCA_CDN_PRIVATE_KEY_SECRET_ARN',
  /** …and the hex sha256 of the key group's public key (SPKI DER), so a mismatched PEM is refused. */
  cdnPublicKeySha256: 'ARCA_CDN_PUBLIC_KEY_SHA256',
  /** Store-wide admins on AWS: IAM principal ARNs, comma-separated (adapters/aws/lambdaPrincipal.ts). */
  adminPrincipals: 'ARCA_ADMIN_PRINCIPALS',
  /** Roles of IAM callers, as JSON (see adapters/aws/lambdaPrincipal.ts). */
  iamRoles: 'ARCA_IAM_ROLES',
  /** Roles of OIDC (JWT) callers, as JSON keyed by a `sub` pattern. */
  jwtRoles: 'ARCA_JWT_ROLES',
  /**
   * Trusted OIDC issuers, comma-separated URLs: https, or http on a loopback address (local testing).
   * Their tokens earn roles through the namespaces' trust rules (adapters/oidc).
   */
  oidcIssuers: 'ARCA_OIDC_ISSUERS',
  /** clamd to stream scanned bytes to: `unix:/path/to/clamd.sock` or `tcp:host:port`; unset, no ClamAV. */
  clamd: 'ARCA_CLAMD',
  /**
   * On AWS with ClamAV (the container-image scan function): the bucket holding ClamAV's definitions
   * (`*.cvd`, `*.cld`), which the scan copies at cold start and the freshclam function refreshes.
   */
  clamavDefinitionsBucket: 'ARCA_CLAMAV_DEFINITIONS_BUCKET',
  /** An OSV advisory database (a directory or a zip of OSV JSON) to match SBOM components against. */
  osvDb: 'ARCA_OSV_DB',
  awsEndpointUrl: 'AWS_ENDPOINT_URL',
  awsRegion: 'AWS_REGION',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** Reads a required variable, failing fast at cold start with the variable's name. */
export function requireEnv(name: EnvName, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`missing required environment variable ${name}`);
  return value;
}

export function intEnv(name: EnvName, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}
