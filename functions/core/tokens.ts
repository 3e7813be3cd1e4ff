import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Caller, CoreDeps } from './deps.ts';
import { ForbiddenError, NotFoundError } from './errors.ts';
import { newId } from './ids.ts';
import type { AuditEvent, Principal, Role, TokenRecord } from './model.ts';

/** Every Arca token starts with this, so secret scanners (Arca's own included) recognise a leak. */
export const TOKEN_PREFIX = 'arca_';
/** Token lifetimes, in seconds. */
export const TOKEN_TTL = { min: 60, max: 365 * 86_400, default: 90 * 86_400 } as const;
/** `lastUsedAt` is written at most this often per token: a read-mostly credential stays read-mostly. */
const LAST_USED_RESOLUTION_MS = 60_000;

type Roles = Readonly<Record<string, readonly Role[]>>;

export interface CreateTokenInput {
  readonly name: string;
  readonly roles: Roles;
  readonly ttlSeconds: number;
}

/** A token as the API shows it: never its secret, never the secret's hash. */
export interface TokenView {
  readonly id: string;
  readonly name: string;
  readonly roles: Roles;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly lastUsedAt?: string;
}

export interface CreatedToken extends TokenView {
  /** `arca_<id>_<secret>`: shown once, stored only as the secret's sha256. */
  readonly token: string;
}

const hashOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

const view = (t: TokenRecord): TokenView => ({
  id: t.id,
  name: t.name,
  roles: t.roles,
  createdAt: t.createdAt,
  createdBy: t.createdBy,
  expiresAt: t.expiresAt,
  ...(t.lastUsedAt ? { lastUsedAt: t.lastUsedAt } : {}),
});

/** True when `principal` administers every namespace `roles` reaches (a store admin reaches all). */
function administers(principal: Principal, roles: Roles): boolean {
  if (principal.admin) return true;
  const adminOf = (ns: string) =>
    (principal.roles[ns]?.includes('admin') ?? false) || (principal.roles['*']?.includes('admin') ?? false);
  return Object.keys(roles).every((ns) =>
    ns === '*' ? principal.roles['*']?.includes('admin') : adminOf(ns),
  );
}

function audit(caller: Caller, action: string, token: TokenRecord, at: string): AuditEvent {
  const namespaces = Object.keys(token.roles);
  return {
    at,
    actor: caller.principal.id,
    action,
    namespace: namespaces.length === 1 ? namespaces[0]! : '*',
    target: `token:${token.id}`,
    requestId: caller.requestId,
    details: { name: token.name, roles: token.roles },
  };
}

/**
 * Mints a token. Store admins may give any namespace roles; a namespace admin only roles within the
 * namespaces it administers (ForbiddenError otherwise). A token is never a store-wide admin.
 */
export async function createToken(
  deps: CoreDeps,
  caller: Caller,
  input: CreateTokenInput,
): Promise<CreatedToken> {
  if (!administers(caller.principal, input.roles)) {
    throw new ForbiddenError(
      `${caller.principal.id} may not grant roles outside the namespaces it administers`,
      {
        details: { namespaces: Object.keys(input.roles) },
      },
    );
  }
  const now = deps.clock.now();
  const id = newId(now);
  const secret = randomBytes(32).toString('base64url');
  const record: TokenRecord = {
    id,
    name: input.name,
    secretHash: hashOf(secret),
    roles: input.roles,
    createdAt: now.toISOString(),
    createdBy: caller.principal.id,
    expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000).toISOString(),
  };
  await deps.index.putToken(record, audit(caller, 'token.create', record, record.createdAt));
  return { ...view(record), token: `${TOKEN_PREFIX}${id}_${secret}` };
}

/** ForbiddenError unless the caller administers something: the store, or at least one namespace. */
function requireSomeAdmin(principal: Principal): void {
  if (principal.admin || Object.values(principal.roles).some((roles) => roles.includes('admin'))) return;
  throw new ForbiddenError(`${principal.id} administers no namespace and manages no token`);
}

/** The live tokens the caller manages: all of them for a store admin, else those within its namespaces. */
export async function listTokens(deps: CoreDeps, caller: Caller): Promise<{ items: TokenView[] }> {
  requireSomeAdmin(caller.principal);
  const now = deps.clock.now().toISOString();
  const tokens = await deps.index.listTokens();
  return {
    items: tokens
      .filter((t) => t.revokedAt === undefined && t.expiresAt > now && administers(caller.principal, t.roles))
      .map(view),
  };
}

/**
 * Revokes a token: it authenticates no more from now on. A live token whose roles reach a namespace
 * the caller does not administer is ForbiddenError, as every other route answers an object outside
 * the caller's namespaces (and so the attempt is audited); its id discloses nothing.
 */
export async function revokeToken(deps: CoreDeps, caller: Caller, id: string): Promise<void> {
  requireSomeAdmin(caller.principal);
  const token = await deps.index.getToken(id);
  if (!token || token.revokedAt !== undefined) throw new NotFoundError(`token ${id} not found`);
  if (!administers(caller.principal, token.roles)) {
    throw new ForbiddenError(
      `${caller.principal.id} may not revoke token ${id}: it reaches namespaces it does not administer`,
      {
        details: { namespaces: Object.keys(token.roles) },
      },
    );
  }
  const at = deps.clock.now().toISOString();
  if (!(await deps.index.revokeToken(id, at, audit(caller, 'token.revoke', token, at)))) {
    throw new NotFoundError(`token ${id} not found`);
  }
}

/** `arca_<id>_<secret>` → its parts; undefined for anything else. */
export function parseToken(presented: string): { id: string; secret: string } | undefined {
  const m = /^arca_([0-9A-Z]{26})_([A-Za-z0-9_-]{43})$/.exec(presented);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/**
 * The principal of a presented Arca token, or null when it is unknown, wrong, revoked or expired.
 * Compares the secret's hash in constant time, and notes its use (at most once a minute).
 */
export async function authenticateToken(
  deps: Pick<CoreDeps, 'index' | 'clock'>,
  presented: string,
): Promise<Principal | null> {
  const parts = parseToken(presented);
  if (!parts) return null;
  const token = await deps.index.getToken(parts.id);
  if (!token) return null;
  const presentedHash = Buffer.from(hashOf(parts.secret), 'hex');
  if (!timingSafeEqual(presentedHash, Buffer.from(token.secretHash, 'hex'))) return null;
  const now = deps.clock.now();
  if (token.revokedAt !== undefined || token.expiresAt <= now.toISOString()) return null;
  const lastUsed = token.lastUsedAt ? Date.parse(token.lastUsedAt) : 0;
  if (now.getTime() - lastUsed >= LAST_USED_RESOLUTION_MS) {
    // Best effort: a failed note of use must not fail the request it authenticates.
    await deps.index.touchToken(token.id, now.toISOString()).catch(() => undefined);
  }
  return { id: `token:${token.id}`, kind: 'token', admin: false, roles: token.roles };
}

export interface WhoAmI {
  readonly id: string;
  readonly kind: Principal['kind'];
  readonly admin: boolean;
  readonly roles: Roles;
  readonly claims: Readonly<Record<string, string>>;
  readonly promoteStages?: Readonly<Record<string, readonly string[]>>;
}

/** The caller as Arca sees it: the first thing to look at when "CD cannot pull". */
export function whoAmI(caller: Caller): WhoAmI {
  const p = caller.principal;
  return {
    id: p.id,
    kind: p.kind,
    admin: p.admin,
    roles: p.roles,
    claims: p.claims ?? {},
    ...(p.promoteStages ? { promoteStages: p.promoteStages } : {}),
  };
}
