import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authenticateOidc, isJwt } from '../adapters/oidc/oidcAuthentication.ts';
import { type OidcVerifier, PolicyDirectory } from '../core/access.ts';
import type { Principal } from '../core/model.ts';
import { authenticateToken, TOKEN_PREFIX } from '../core/tokens.ts';
import type { Authenticator } from '../http/types.ts';
import type { Index } from '../ports.ts';

const digest = (token: string) => createHash('sha256').update(token).digest();

/** OIDC for the local server: the verifier of the trusted issuers' tokens, and how fresh trust rules are. */
export interface BearerOidc {
  readonly verifier: OidcVerifier;
  /** Namespace policies (trust rules) are read at most once per this many ms; 0: on every request. */
  readonly policyTtlMs: number;
}

/**
 * Bearer-token authentication for the local server: the configured tokens (the admin's), compared
 * by their sha256 in constant time so neither timing nor a heap dump of the table reveals one, then
 * Arca tokens (`arca_<id>_<secret>`) from the index, checked on every request so a revoked or
 * expired token answers 401 at once, then, with `oidc`, JWTs from the trusted issuers, whose roles
 * come from the namespaces' trust rules.
 */
export function bearerAuthenticator(
  tokens: ReadonlyMap<string, Principal>,
  oidc?: BearerOidc,
): Authenticator {
  const table = [...tokens].map(([token, principal]) => ({ hash: digest(token), principal }));
  // One directory per index: the authenticator exists before the backend it will be handed.
  const directories = new WeakMap<Index, PolicyDirectory>();
  const directoryOf = (index: Index, ttlMs: number) => {
    const known = directories.get(index);
    if (known) return known;
    const directory = new PolicyDirectory(index, ttlMs);
    directories.set(index, directory);
    return directory;
  };
  return async (req, deps) => {
    const header = req.headers['authorization'];
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) return null;
    const token = m[1]!;
    const presented = digest(token);
    const configured = table.find((t) => timingSafeEqual(t.hash, presented))?.principal;
    if (configured) return configured;
    if (token.startsWith(TOKEN_PREFIX)) return authenticateToken(deps, token);
    if (oidc && isJwt(token))
      return authenticateOidc(oidc.verifier, directoryOf(deps.index, oidc.policyTtlMs), token);
    return null;
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
