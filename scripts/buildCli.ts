/**
 * `npm run build`: bundles the CLI into `dist/cli/arca.mjs`, one ESM file needing nothing but Node ≥ 20
 * (no tsx, no native module, no SQLite), and writes the package manifest beside it, its version
 * taken from the repository's package.json: `npm pack dist/cli` makes the tarball users install.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_DIST = join(root, 'dist/cli');

/** `arca serve` runs the local store: that needs the repository (SQLite, the embedded backend). */
const withoutLocalServer: Plugin = {
  name: 'without-local-server',
  setup(b) {
    b.onResolve({ filter: /functions\/local\/serve\.ts$/ }, (args) => ({
      path: args.path,
      namespace: 'no-serve',
    }));
    b.onLoad({ filter: /.*/, namespace: 'no-serve' }, () => ({
      contents:
        "export async function serve() { throw new Error('arca serve runs the local store, which needs the Arca repository: clone it and run npm start'); }",
      loader: 'js',
    }));
  },
};

export async function buildCli(): Promise<{ metafile: Metafile; version: string; bundle: string }> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    version: string;
    license: string;
  };
  await mkdir(CLI_DIST, { recursive: true });
  const bundle = join(CLI_DIST, 'arca.mjs');
  const result = await build({
    entryPoints: [join(root, 'cli/bin.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    legalComments: 'linked',
    metafile: true,
    // Some dependencies still call require(): give the ES module one.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __arcaRequire } from 'node:module'; const require = __arcaRequire(import.meta.url);",
    },
    plugins: [withoutLocalServer],
    logLevel: 'silent',
  });
  const manifest = {
    name: '@arca-store/cli',
    version: pkg.version,
    description: 'arca: the CLI of the Arca artifact store (publish, fetch, promote, lease, gc) for CI/CD',
    license: pkg.license,
    type: 'module',
    bin: { arca: 'arca.mjs' },
    files: ['arca.mjs', 'arca.mjs.LEGAL.txt', 'README.md'],
    engines: { node: '>=20' },
  };
  await writeFile(join(CLI_DIST, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(
    join(CLI_DIST, 'README.md'),
    `# @arca-store/cli ${pkg.version}\n\n\`arca\`, the command line of the Arca artifact store. Needs Node 20 or later and nothing else.\nRun \`arca help\` for the commands; \`ARCA_URL\` and \`ARCA_TOKEN\` say which store and who you are.\n`,
  );
  await writeFile(join(root, 'dist/cli-meta.json'), JSON.stringify(result.metafile));
  return { metafile: result.metafile, version: pkg.version, bundle };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { bundle, version } = await buildCli();
  process.stdout.write(`built ${bundle} (arca ${version})\n`);
}
