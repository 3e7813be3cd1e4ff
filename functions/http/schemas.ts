/** One zod schema per route input: validated at the boundary, the inferred types flow inward. */
import { z } from 'zod';
import { UPLOAD_ID_PATTERN } from '../core/ids.ts';
import {
  DIGEST_PATTERN,
  FILE_NAME_PATTERN,
  fileNameCollision,
  fileNameProblem,
  isNamespace,
  isPackage,
  isStage,
  isVersion,
  LIMITS,
  METADATA_KEY_PATTERN,
  NAMESPACE_PATTERN,
  PACKAGE_PATTERN,
  STAGE_PATTERN,
  VERSION_PATTERN,
} from '../core/names.ts';
import { TOKEN_TTL } from '../core/tokens.ts';

/**
 * A name checked by its rule in core/names.ts; the regex and length limit also go into the schema
 * (zod checks them before the rule), so the OpenAPI document states what the server enforces.
 */
const named = (what: string, check: (s: string) => boolean, pattern: RegExp, maxLength: number) =>
  z
    .string()
    .max(maxLength, `invalid ${what}: longer than ${maxLength}`)
    .regex(pattern, `invalid ${what}`)
    .refine(check, (s) => ({ message: `invalid ${what}: ${JSON.stringify(s.slice(0, 200))}` }));

export const namespaceSchema = named('namespace', isNamespace, NAMESPACE_PATTERN, LIMITS.namespaceLength);
export const packageSchema = named('package', isPackage, PACKAGE_PATTERN, LIMITS.packageLength);
export const versionSchema = named('version', isVersion, VERSION_PATTERN, 128);
export const stageSchema = named('stage', isStage, STAGE_PATTERN, 32);
/**
 * A file name, which may be a relative path (`dist/js/app.js`). A refusal carries
 * `params.reason` (`fileNameProblem`), so the 400's issue says why in a machine-readable way.
 */
export const fileNameSchema = z
  .string()
  .max(LIMITS.fileNameLength, `invalid file name: longer than ${LIMITS.fileNameLength}`)
  .regex(FILE_NAME_PATTERN, 'invalid file name')
  .superRefine((s, ctx) => {
    const reason = fileNameProblem(s);
    if (reason)
      ctx.addIssue({
        code: 'custom',
        message: `invalid file name (${reason}): ${JSON.stringify(s.slice(0, 200))}`,
        params: { reason },
      });
  });
export const uploadIdSchema = z.string().regex(UPLOAD_ID_PATTERN, 'invalid upload id');

export const digestSchema = z
  .string()
  .regex(DIGEST_PATTERN, 'a digest is sha256:<64 lowercase hex> or the bare 64 hex')
  .transform((s) => s.slice(-64));

const sizeSchema = z
  .number()
  .int('size must be an integer')
  .min(0, 'size must be ≥ 0')
  .max(Number.MAX_SAFE_INTEGER);

const mediaTypeSchema = z
  .string()
  .max(255)
  .regex(/^[A-Za-z0-9][\w.+-]*\/[A-Za-z0-9][\w.+-]*(?:\s*;\s*[\w.+-]+=[\w.+"-]+)*$/, 'invalid media type');

export const metadataSchema = z
  .record(
    z.string().regex(METADATA_KEY_PATTERN, 'invalid metadata key'),
    z.string().max(LIMITS.metadataValueLength),
  )
  .refine(
    (m) => Object.keys(m).length <= LIMITS.metadataKeys,
    `at most ${LIMITS.metadataKeys} metadata keys`,
  );

const declaredFileSchema = z
  .object({
    name: fileNameSchema,
    size: sizeSchema,
    sha256: digestSchema,
    mediaType: mediaTypeSchema.default('application/octet-stream'),
  })
  .strict();

export const createUploadSchema = z
  .object({
    namespace: namespaceSchema,
    package: packageSchema,
    version: versionSchema,
    files: z.array(declaredFileSchema).min(1).max(LIMITS.filesPerVersion),
    metadata: metadataSchema.default({}),
    /**
     * Send small files in one pack: they are answered `packed`, and `pack` is one PUT of their bytes
     * concatenated in the order it lists.
     */
    pack: z.boolean().default(false),
  })
  .strict()
  .superRefine((body, ctx) => {
    const names = body.files.map((f) => f.name);
    const collision = fileNameCollision(names);
    if (collision) {
      const same = collision.name === collision.with;
      ctx.addIssue({
        code: 'custom',
        path: ['files', names.lastIndexOf(collision.name), 'name'],
        message: same
          ? `duplicate file name ${collision.name}`
          : `${collision.name} needs ${collision.with} as a directory, but it is a file`,
        params: { reason: same ? 'duplicateName' : 'fileIsDirectory' },
      });
    }
  });

export const commitUploadSchema = z
  .object({
    files: z
      .array(
        z
          .object({
            name: fileNameSchema,
            parts: z
              .array(
                z
                  .object({
                    partNumber: z.number().int().min(1).max(10_000),
                    etag: z.string().min(1).max(256),
                  })
                  .strict(),
              )
              .min(1)
              .max(10_000),
          })
          .strict(),
      )
      .max(LIMITS.filesPerVersion)
      .default([]),
  })
  .strict();

export const packageParams = z.object({ ns: namespaceSchema, pkg: packageSchema }).strict();
export const versionParams = packageParams.extend({ version: versionSchema }).strict();
export const fileParams = versionParams.extend({ name: fileNameSchema }).strict();
export const uploadParams = z.object({ uploadId: uploadIdSchema }).strict();

export const listQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(4096).optional(),
  })
  .strict();

/** A package's versions: `include=deleted` lists deleted versions too. */
export const listVersionsQuerySchema = listQuerySchema
  .extend({ include: z.enum(['deleted']).optional() })
  .strict();

export const downloadQuerySchema = z.object({ redirect: z.enum(['true', 'false']).default('true') }).strict();

export const noQuerySchema = z.object({}).strict();

export const promoteSchema = z.object({ stage: stageSchema }).strict();
export const stageParams = packageParams.extend({ stage: stageSchema }).strict();
export const stageFileParams = stageParams.extend({ name: fileNameSchema }).strict();
export const namespaceParams = z.object({ ns: namespaceSchema }).strict();
export const leaseParams = z
  .object({ leaseId: z.string().regex(UPLOAD_ID_PATTERN, 'invalid lease id') })
  .strict();

const ttlSchema = z.number().int('ttlSeconds must be an integer').min(60).max(86_400);

export const acquireLeaseSchema = z
  .object({
    namespace: namespaceSchema,
    package: packageSchema,
    version: versionSchema,
    holder: z.string().min(1).max(256),
    ttlSeconds: ttlSchema,
  })
  .strict();

export const renewLeaseSchema = z.object({ ttlSeconds: ttlSchema }).strict();

const stageListSchema = z
  .array(stageSchema)
  .max(32)
  .refine((list) => new Set(list).size === list.length, 'stages must be unique');

/** Trust rules and member bindings: roles plus, optionally, the stages `promote` may reach. */
const boundRoles = {
  roles: z
    .array(z.enum(['read', 'write', 'promote', 'admin']))
    .min(1, 'at least one role')
    .max(4)
    .refine((list) => new Set(list).size === list.length, 'roles must be unique'),
  stages: stageListSchema.refine((l) => l.length > 0, 'stages must not be empty').optional(),
};

const claimsSchema = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/, 'invalid claim name'),
    z.string().min(1).max(512),
  )
  .refine((c) => Object.keys(c).length <= 16, 'at most 16 claims');

const trustRuleSchema = z
  .object({
    issuer: z
      .string()
      .max(512)
      .url('issuer must be a URL')
      .refine(
        (u) =>
          /^https:\/\//.test(u) || /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(u),
        {
          message: 'issuer must be https (http only on a loopback address)',
        },
      ),
    audience: z.string().min(1).max(256),
    claims: claimsSchema,
    ...boundRoles,
  })
  .strict();

const memberSchema = z
  .object({
    principal: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/,
        'principal must be an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)',
      ),
    ...boundRoles,
  })
  .strict();

const uniqueList = <T extends z.ZodTypeAny>(item: T, max: number) =>
  z
    .array(item)
    .min(1)
    .max(max)
    .refine((list) => new Set(list).size === list.length, 'entries must be unique');

/** One stage's promotion gates (shared/API.md § Provenance and gates); each field is one gate. */
const gateSchema = z
  .object({
    scan: z.literal('clean').optional(),
    metadata: uniqueList(
      z.string().regex(METADATA_KEY_PATTERN, 'invalid metadata key'),
      LIMITS.metadataKeys,
    ).optional(),
    provenance: claimsSchema
      .refine((c) => Object.keys(c).length > 0, 'provenance must name at least one claim')
      .optional(),
    attestations: uniqueList(z.string().min(1).max(512), 16).optional(),
    minSoakSeconds: z
      .number()
      .int()
      .min(1)
      .max(365 * 86_400)
      .optional(),
    vulnerabilities: z
      .object({ maxSeverity: z.enum(['none', 'low', 'medium', 'high', 'critical']) })
      .strict()
      .optional(),
  })
  .strict();

const publisherKeySchema = z
  .object({
    keyId: z.string().regex(/^[\x21-\x7e]{1,256}$/, 'keyId: 1..256 printable ASCII characters'),
    publicKeyPem: z
      .string()
      .max(16_384)
      .regex(
        /^-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----\s*$/,
        'publicKeyPem must be a PEM public key',
      ),
  })
  .strict();

export const policySchema = z
  .object({
    stages: stageListSchema.refine((l) => l.length > 0, 'stages must not be empty').optional(),
    enforceOrder: z.boolean().optional(),
    immutableStages: stageListSchema.optional(),
    retention: z
      .object({
        keepLast: z.number().int().min(1).max(100_000).optional(),
        maxAgeDays: z.number().int().min(1).max(36_500).optional(),
        keepPromotedPerStage: z.number().int().min(1).max(1000).optional(),
        graceHours: z.number().int().min(1).max(8760).optional(),
      })
      .strict()
      .optional(),
    trust: z.array(trustRuleSchema).max(32, 'at most 32 trust rules').optional(),
    members: z.array(memberSchema).max(256, 'at most 256 members').optional(),
    gates: z.record(stageSchema, gateSchema).optional(),
    publisherKeys: z
      .array(publisherKeySchema)
      .max(32, 'at most 32 publisher keys')
      .refine((keys) => new Set(keys.map((k) => k.keyId)).size === keys.length, 'keyIds must be unique')
      .optional(),
  })
  .strict();

export const gcPlanSchema = z.object({ limit: z.number().int().min(1).max(100_000).default(1000) }).strict();
export const gcRunSchema = z
  .object({
    maxActions: z.number().int().min(1).max(1_000_000).default(100_000),
    /** Stop starting steps after this long (plus at most one batch); absent: no time limit. */
    budgetSeconds: z.number().int().min(1).max(900).optional(),
    cursor: z.string().min(1).max(4096).optional(),
  })
  .strict();

export const auditQuerySchema = z
  .object({
    namespace: namespaceSchema.optional(),
    since: z.string().datetime({ offset: false, message: 'since must be an ISO-8601 UTC time' }).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().min(1).max(4096).optional(),
  })
  .strict();

const roleSchema = z.enum(['read', 'write', 'promote', 'admin']);

/** `{"<ns>|*": [roles]}`: at least one namespace, each with at least one role, no repeats. */
export const rolesSchema = z
  .record(
    z.string().refine(
      (ns) => ns === '*' || isNamespace(ns),
      (ns) => ({
        message: `invalid namespace in roles: ${JSON.stringify(ns.slice(0, 200))}`,
      }),
    ),
    z
      .array(roleSchema)
      .min(1, 'each namespace needs at least one role')
      .max(4)
      .refine((list) => new Set(list).size === list.length, 'roles must be unique'),
  )
  .refine((roles) => Object.keys(roles).length > 0, 'roles must name at least one namespace')
  .refine((roles) => Object.keys(roles).length <= 256, 'at most 256 namespaces');

export const createTokenSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'invalid token name: letters, digits, . _ -, ≤ 64'),
    roles: rolesSchema,
    ttlSeconds: z
      .number()
      .int('ttlSeconds must be an integer')
      .min(TOKEN_TTL.min, `ttlSeconds must be ≥ ${TOKEN_TTL.min}`)
      .max(TOKEN_TTL.max, `ttlSeconds must be ≤ ${TOKEN_TTL.max} (one year)`)
      .default(TOKEN_TTL.default),
  })
  .strict();

export const tokenParams = z.object({ id: z.string().regex(UPLOAD_ID_PATTERN, 'invalid token id') }).strict();

/** A DSSE envelope; its payload (an in-toto Statement) is decoded and checked in core/attestations.ts. */
export const dsseEnvelopeSchema = z
  .object({
    payloadType: z.string().min(1).max(256),
    payload: z.string().min(1),
    signatures: z
      .array(
        z
          .object({
            keyid: z.string().max(256).optional(),
            sig: z.string().min(1).max(16_384),
          })
          .strict(),
      )
      .min(1, 'at least one signature')
      .max(16, 'at most 16 signatures'),
  })
  .strict();

const META_PREFIX = 'meta.';

/**
 * GET /v1/search: `sha256=<digest>`, or `namespace=<ns>&meta.<key>=<value>` (one metadata key), with
 * `limit` and `cursor`. The `meta.<key>` parameters are open-ended, so they are checked here.
 */
export const searchQuerySchema = z
  .object({
    sha256: digestSchema.optional(),
    namespace: namespaceSchema.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(4096).optional(),
  })
  .catchall(z.string().max(LIMITS.metadataValueLength))
  .superRefine((q, ctx) => {
    const extra = Object.keys(q).filter((k) => !['sha256', 'namespace', 'limit', 'cursor'].includes(k));
    for (const k of extra) {
      if (!k.startsWith(META_PREFIX) || !METADATA_KEY_PATTERN.test(k.slice(META_PREFIX.length)))
        ctx.addIssue({ code: 'custom', path: [k], message: `unknown query parameter ${k}` });
    }
    const bySha = q.sha256 !== undefined;
    const byMeta = q.namespace !== undefined || extra.length > 0;
    if (bySha === byMeta)
      ctx.addIssue({
        code: 'custom',
        message: 'search by sha256=<digest>, or by namespace=<ns>&meta.<key>=<value>: exactly one of them',
      });
    if (byMeta && (q.namespace === undefined || extra.length !== 1))
      ctx.addIssue({
        code: 'custom',
        message: 'a metadata search names the namespace and exactly one meta.<key>=<value>',
      });
  })
  .transform((q) => {
    const [meta, value] = Object.entries(q).find(([k]) => k.startsWith(META_PREFIX)) ?? [];
    const page = { limit: q.limit, ...(q.cursor === undefined ? {} : { cursor: q.cursor }) };
    return q.sha256 !== undefined
      ? { by: 'sha256' as const, sha256: q.sha256, ...page }
      : {
          by: 'metadata' as const,
          namespace: q.namespace!,
          key: meta!.slice(META_PREFIX.length),
          value: String(value),
          ...page,
        };
  });
