/** One zod schema per route input: validated at the boundary, the inferred types flow inward. */
import { z } from 'zod';
import { UPLOAD_ID_PATTERN } from '../core/ids.ts';
import {
  DIGEST_PATTERN,
  isFileName,
  isNamespace,
  isPackage,
  isStage,
  isVersion,
  LIMITS,
  METADATA_KEY_PATTERN,
} from '../core/names.ts';

const named = (what: string, check: (s: string) => boolean) =>
  z.string().refine(check, (s) => ({ message: `invalid ${what}: ${JSON.stringify(s.slice(0, 200))}` }));

export const namespaceSchema = named('namespace', isNamespace);
export const packageSchema = named('package', isPackage);
export const versionSchema = named('version', isVersion);
export const stageSchema = named('stage', isStage);
export const fileNameSchema = named('file name', isFileName);
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
  })
  .strict()
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    for (const [i, f] of body.files.entries()) {
      if (seen.has(f.name))
        ctx.addIssue({
          code: 'custom',
          path: ['files', i, 'name'],
          message: `duplicate file name ${f.name}`,
        });
      seen.add(f.name);
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

export const downloadQuerySchema = z.object({ redirect: z.enum(['true', 'false']).default('true') }).strict();

export const noQuerySchema = z.object({}).strict();
