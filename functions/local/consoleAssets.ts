import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the console's static files are served from (`console/app.js` → `/console/app.js`). */
export const CONSOLE_PREFIX = '/console/';

/**
 * The console's headers: a strict CSP (only this origin's scripts, styles and API; no inline script,
 * no framing, no plugins), no referrer (a URL never leaves with the page), no sniffing.
 */
export const CONSOLE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-cache',
} as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The repository's `console/` directory, next to `functions/`. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

export interface ConsoleAssets {
  /** Answers `/` and `/console/<file>`; false for any other path (the API's). */
  serve(req: IncomingMessage, res: ServerResponse, path: string): number | undefined;
}

/**
 * The console's files, read once at start: only the files in the directory are ever served (a name
 * is looked up, never joined into a path), so no request reaches another file. Without the directory
 * (a bundle without it), `/` stays the API's 404.
 */
export function loadConsoleAssets(dir: string = DEFAULT_CONSOLE_DIR): ConsoleAssets {
  const files = new Map<string, { body: Buffer; type: string }>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    names = [];
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return {
    serve: (req, res, path) => {
      const name =
        path === '/'
          ? 'index.html'
          : path.startsWith(CONSOLE_PREFIX)
            ? path.slice(CONSOLE_PREFIX.length)
            : undefined;
      if (name === undefined) return undefined;
      const file = files.get(name);
      if (!file || (path !== '/' && name === 'index.html')) return undefined;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', ...CONSOLE_HEADERS }).end();
        return 405;
      }
      res.writeHead(200, {
        'content-type': file.type,
        'content-length': file.body.length,
        ...CONSOLE_HEADERS,
      });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return 200;
    },
  };
}
