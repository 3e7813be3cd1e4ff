import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JoseOidcVerifier } from '../../functions/adapters/oidc/joseOidcVerifier.ts';
import type { Principal } from '../../functions/core/model.ts';
import type { Authenticator } from '../../functions/http/types.ts';
import { ADMIN_PRINCIPAL, bearerAuthenticator } from '../../functions/local/auth.ts';
import {
  createEmbeddedBackend,
  type EmbeddedBackend,
  type EmbeddedOptions,
} from '../../functions/local/embeddedBackend.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';

export const ADMIN_TOKEN = 'test-admin-token';

/** Scoped tokens every test server accepts besides the admin's: a writer and a reader per namespace. */
export const SCOPED_TOKENS = {
  alphaWriter: 'test-alpha-writer',
  betaWriter: 'test-beta-writer',
  alphaReader: 'test-alpha-reader',
  alphaAdmin: 'test-alpha-admin',
  alphaPromoter: 'test-alpha-promoter',
  alphaDevPromoter: 'test-alpha-dev-promoter',
} as const;

/** The principals of the test servers' tokens (admin plus the scoped ones). */
export function testTokens(): Map<string, Principal> {
  return new Map<string, Principal>([
    [ADMIN_TOKEN, ADMIN_PRINCIPAL],
    [
      SCOPED_TOKENS.alphaWriter,
      { id: 'alpha-writer', kind: 'token', admin: false, roles: { alpha: ['write'] } },
    ],
    [
      SCOPED_TOKENS.betaWriter,
      { id: 'beta-writer', kind: 'token', admin: false, roles: { beta: ['write'] } },
    ],
    [
      SCOPED_TOKENS.alphaReader,
      { id: 'alpha-reader', kind: 'token', admin: false, roles: { alpha: ['read'] } },
    ],
    [
      SCOPED_TOKENS.alphaAdmin,
      { id: 'alpha-admin', kind: 'token', admin: false, roles: { alpha: ['admin'] } },
    ],
    [
      SCOPED_TOKENS.alphaPromoter,
      { id: 'alpha-promoter', kind: 'token', admin: false, roles: { alpha: ['promote'] } },
    ],
    [
      SCOPED_TOKENS.alphaDevPromoter,
      {
        id: 'alpha-dev-promoter',
        kind: 'token',
        admin: false,
        roles: { alpha: ['promote'] },
        promoteStages: { alpha: ['dev'] },
      },
    ],
  ]);
}

export interface EmbeddedServer {
  readonly server: LocalServer;
  readonly backend: EmbeddedBackend;
  readonly dataDir: string;
  readonly url: string;
  close(): Promise<void>;
}

/** How a test server authenticates besides its tokens. */
export interface TestAuthOptions {
  /** OIDC issuers whose tokens it trusts (trust rules read on every request, a new key fetched at once). */
  readonly oidcIssuers?: readonly string[];
}

/** The test servers' authenticator: `testTokens()`, Arca tokens, and JWTs of `oidcIssuers`. */
export function testAuthenticator(auth: TestAuthOptions = {}): Authenticator {
  const issuers = auth.oidcIssuers ?? [];
  return bearerAuthenticator(
    testTokens(),
    issuers.length === 0
      ? undefined
      : { verifier: new JoseOidcVerifier({ issuers, jwksCooldownMs: 0 }), policyTtlMs: 0 },
  );
}

/** A real local server on a free port over a fresh temp data dir. */
export async function startEmbeddedServer(
  options: Partial<EmbeddedOptions> = {},
  auth: TestAuthOptions = {},
): Promise<EmbeddedServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'arca-test-')));
  let backend: EmbeddedBackend | undefined;
  const server = await startLocalServer({
    port: 0,
    authenticate: testAuthenticator(auth),
    log: () => {},
    backend: async (url) => {
      backend = await createEmbeddedBackend({ ...options, dataDir, publicUrl: url });
      await backend.recover();
      return backend;
    },
  });
  return {
    server,
    backend: backend!,
    dataDir,
    url: server.url,
    close: async () => {
      await server.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
