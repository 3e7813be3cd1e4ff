/**
 * How the Lambda handlers are bundled: one definition for the CDK stack, the bundle-size test and
 * the benchmark, so what is measured is what ships. The AWS SDK is bundled (the version we tested,
 * not whatever the runtime has); ESM needs a `require` for the few CommonJS dependencies; the
 * embedded backend's native SQLite module is never loaded on Lambda.
 */
export const LAMBDA_BUNDLE = {
  target: 'node22',
  mainFields: ['module', 'main'],
  banner:
    "import{createRequire as __arcaRequire}from'node:module';const require=__arcaRequire(import.meta.url);",
  external: ['better-sqlite3'],
} as const;

/** The same, as plain esbuild build options (minified ESM for Node). */
export const LAMBDA_ESBUILD_OPTIONS = {
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: LAMBDA_BUNDLE.target,
  mainFields: [...LAMBDA_BUNDLE.mainFields],
  banner: { js: LAMBDA_BUNDLE.banner },
  external: [...LAMBDA_BUNDLE.external],
  logLevel: 'silent',
} as const;
