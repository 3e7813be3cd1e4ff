import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Principal } from '../core/model.ts';
import { authenticateToken, TOKEN_PREFIX } from '../core/tokens.ts';
import type { Authenticator } from '../http/types.ts';

const digest = (token: string) => createHash('sha256').update(token).digest();

/**
 * Bearer-token authentication for the local server: the configured tokens (the admin's), compared
 * by their sha256 in constant time so neither timing nor a heap dump of the table reveals one, then
 * Arca tokens (`arca_<id>_<secret>`) from the index, checked on every request so a revoked or
 * expired token answers 401 at once.
 */
export function bearerAuthenticator(tokens: ReadonlyMap<string, Principal>): Authenticator {
  const table = [...tokens].map(([token, principal]) => ({ hash: digest(token), principal }));
  return async (req, deps) => {
    const header = req.headers['authorization'];
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) return null;
    const presented = digest(m[1]!);
    const configured = table.find((t) => timingSafeEqual(t.hash, presented))?.principal;
    if (configured) return configured;
    return m[1]!.startsWith(TOKEN_PREFIX) ? authenticateToken(deps, m[1]!) : null;
  };
}

export const ADMIN_PRINCIPAL: Principal = { id: 'admin', kind: 'admin', admin: true, roles: {} };

/** Where the admin token came from: the variable, the data dir, or generated just now. */
export type AdminTokenSource = 'env' | 'file' | 'generated';

/**
 * The admin token: `ARCA_ADMIN_TOKEN` when set, else the one kept in the data dir (`path`), generated
 * on first start. Only a `generated` token is ever printed.
 */
export function resolveAdminToken(
  dataDir: string,
  fromEnv: string | undefined,
): { token: string; source: AdminTokenSource; path: string } {
  const path = join(dataDir, 'admin-token');
  if (fromEnv) return { token: fromEnv, source: 'env', path };
  try {
    return { token: readFileSync(path, 'utf8').trim(), source: 'file', path };
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const token = `arca_${randomBytes(24).toString('base64url')}`;
    writeFileSync(path, `${token}\n`, { mode: 0o600 });
    return { token, source: 'generated', path };
  }
}
