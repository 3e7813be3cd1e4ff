import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  base64url,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';

type KeyAlg = 'RS256' | 'ES256';

interface IssuerKey {
  readonly alg: KeyAlg;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
  published: boolean;
}

export interface SignOptions {
  /** Which key signs (default: the first RSA key). */
  readonly kid?: string;
  /** Seconds from now: when it was issued (default 0), when it expires (default 300), not before (unset). */
  readonly iat?: number;
  readonly exp?: number;
  readonly nbf?: number;
}

/**
 * A real OIDC issuer on 127.0.0.1 for tests: the discovery document and a JWKS over node:http, keys
 * from jose (an RSA and an EC key published from the start), tokens signed like GitHub Actions'.
 * A key added unpublished signs tokens whose `kid` the JWKS does not list until `publish(kid)`.
 */
export class TestIssuer {
  /** JWKS requests served so far: how often the store fetched the keys. */
  jwksRequests = 0;
  private readonly keys = new Map<string, IssuerKey>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<TestIssuer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = new TestIssuer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => {
      const body =
        req.url === '/.well-known/openid-configuration'
          ? { issuer: issuer.url, jwks_uri: `${issuer.url}/.well-known/jwks` }
          : req.url === '/.well-known/jwks'
            ? issuer.jwks()
            : undefined;
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { error: 'not found' }));
    });
    await issuer.addKey('RS256');
    await issuer.addKey('ES256');
    return issuer;
  }

  /** Creates a key; `published: false` keeps it out of the JWKS until `publish(kid)`. Returns its kid. */
  async addKey(alg: KeyAlg, published = true): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `${alg.toLowerCase()}-${this.keys.size + 1}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    this.keys.set(kid, { alg, privateKey, publicKey, jwk, published });
    return kid;
  }

  publish(kid: string): void {
    this.key(kid).published = true;
  }

  /** The kid of the first key of an algorithm. */
  kidOf(alg: KeyAlg): string {
    return [...this.keys].find(([, k]) => k.alg === alg)![0];
  }

  /** A token with GitHub Actions-like claims (audience `arca`), overridden by `claims`. */
  async sign(claims: JWTPayload = {}, options: SignOptions = {}): Promise<string> {
    const kid = options.kid ?? this.kidOf('RS256');
    const key = this.key(kid);
    return new SignJWT(this.claims(claims, options))
      .setProtectedHeader({ alg: key.alg, kid, typ: 'JWT' })
      .sign(key.privateKey);
  }

  /** The same claims with `alg: none` and no signature, written by hand (jose will not make one). */
  unsigned(claims: JWTPayload = {}): string {
    const part = (value: unknown) => base64url.encode(JSON.stringify(value));
    return `${part({ alg: 'none', typ: 'JWT' })}.${part(this.claims(claims, {}))}.`;
  }

  /** HS256 with a published key's SPKI PEM as the HMAC secret: the algorithm-confusion forgery. */
  async signedWithPublicKeyAsSecret(claims: JWTPayload = {}): Promise<string> {
    const kid = this.kidOf('RS256');
    const pem = await exportSPKI(this.key(kid).publicKey);
    return new SignJWT(this.claims(claims, {}))
      .setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' })
      .sign(new TextEncoder().encode(pem));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private claims(claims: JWTPayload, options: SignOptions): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: this.url,
      aud: 'arca',
      sub: 'repo:org/payments:ref:refs/heads/main',
      repository: 'org/payments',
      repository_owner: 'org',
      workflow: 'release',
      ref: 'refs/heads/main',
      sha: '9f1c0a7e4b2d',
      run_id: '812',
      iat: now + (options.iat ?? 0),
      exp: now + (options.exp ?? 300),
      ...(options.nbf === undefined ? {} : { nbf: now + options.nbf }),
      ...claims,
    };
  }

  private jwks(): { keys: JWK[] } {
    this.jwksRequests++;
    return { keys: [...this.keys.values()].filter((k) => k.published).map((k) => k.jwk) };
  }

  private key(kid: string): IssuerKey {
    const key = this.keys.get(kid);
    if (!key) throw new Error(`no key ${kid}`);
    return key;
  }
}
