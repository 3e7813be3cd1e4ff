import packageJson from '../package.json' with { type: 'json' };

/** The CLI's version: the repository's, from its one place (package.json), bundled into the package. */
export const VERSION: string = packageJson.version;
