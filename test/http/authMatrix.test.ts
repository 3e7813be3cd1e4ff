import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal, Role } from '../../functions/core/model.ts';
import { routes } from '../../functions/http/routes.ts';
import { call, createUpload, publish, uploadAll } from '../support/client.ts';
import { ADMIN_TOKEN, SCOPED_TOKENS, testTokens } from '../support/embedded.ts';
import { content, sha256 } from '../support/fixtures.ts';
import { TestClock } from '../support/testClock.ts';
import { describeForEachBackend, startTestServer, type TestServer } from '../support/testServer.ts';

/**
 * Every route × every kind of caller × the caller's own namespace and another one answers the status
 * the documented role table (docs/api.md § Authentication and roles) implies. The cases are keyed by
 * the route table's `METHOD path`: a route without a row fails the first test.
 */

const OWN = 'alpha';
const OTHER = 'beta';
type Namespace = typeof OWN | typeof OTHER;
const NAMESPACES: readonly Namespace[] = [OWN, OTHER];

/** The callers of the matrix, by the token they present (their roles are those of `testTokens()`). */
const CALLERS = {
  'no token': null,
  read: SCOPED_TOKENS.alphaReader,
  write: SCOPED_TOKENS.alphaWriter,
  promote: SCOPED_TOKENS.alphaPromoter,
  'promote to dev only': SCOPED_TOKENS.alphaDevPromoter,
  'namespace admin': SCOPED_TOKENS.alphaAdmin,
  'other-namespace writer': SCOPED_TOKENS.betaWriter,
  'store admin': ADMIN_TOKEN,
} as const;
type CallerName = keyof typeof CALLERS;
const CALLER_NAMES = Object.keys(CALLERS) as CallerName[];

/** What a route needs, in the documented table's words. */
type Need =
  | { readonly kind: 'nothing' }
  | { readonly kind: 'any caller' }
  | { readonly kind: 'role'; readonly role: Role; readonly stage?: string }
  | { readonly kind: 'admin of some namespace' }
  | { readonly kind: 'store admin' };

const NOTHING: Need = { kind: 'nothing' };
const ANY_CALLER: Need = { kind: 'any caller' };
const STORE_ADMIN: Need = { kind: 'store admin' };
const role = (r: Role, stage?: string): Need => ({ kind: 'role', role: r, ...(stage ? { stage } : {}) });

/**
 * The documented model, written here independently of core/auth.ts: a store admin may do anything;
 * `admin` in a namespace implies every role there, any role implies `read`, and a promotion limited
 * to some stages reaches only those.
 */
function permits(p: Principal, ns: Namespace, need: Need): boolean {
  if (need.kind === 'nothing' || need.kind === 'any caller' || p.admin) return true;
  if (need.kind === 'store admin') return false;
  if (need.kind === 'admin of some namespace')
    return Object.values(p.roles).some((roles) => roles.includes('admin'));
  const held = [...(p.roles[ns] ?? []), ...(p.roles['*'] ?? [])];
  if (held.includes('admin')) return true;
  const holds = held.includes(need.role) || (need.role === 'read' && held.length > 0);
  const stages = p.promoteStages?.[ns] ?? p.promoteStages?.['*'];
  return holds && (need.stage === undefined || stages === undefined || stages.includes(need.stage));
}

/** Objects a permitted call uses up or changes: each permitted cell gets its own, the refused share one. */
type Consumable =
  | 'openUpload'
  | 'leaseToRenew'
  | 'leaseToRelease'
  | 'token'
  | 'tombstonedVersion'
  | 'versionToDelete';

interface Fixtures {
  /** The upload that committed `app@1.0.0` (a commit again answers that Version). */
  readonly committedUpload: Record<Namespace, string>;
  /** The sha256 of `app@1.0.0`'s one file (`app.bin`): what an attestation of it names. */
  readonly appSha256: Record<Namespace, string>;
  take(kind: Consumable, ns: Namespace, caller: CallerName): string;
}

interface Case {
  /** Tells two cases of one route apart. */
  readonly variant?: string;
  readonly need: Need;
  /** The status when permitted. */
  readonly ok: number;
  /** The status when permitted on the AWS backend, where it differs. */
  readonly okOnAws?: number;
  readonly consumes?: Consumable;
  /** Run after every other call, one at a time (GC holds a store-wide lock). */
  readonly last?: boolean;
  request(ns: Namespace, fx: Fixtures, caller: CallerName): { path: string; body?: unknown };
}

const version = (ns: Namespace, rest = '') => `/v1/packages/${ns}/app/versions/1.0.0${rest}`;
const POLICY = { retention: { keepLast: 1, maxAgeDays: 1 } };
const DAY = 86_400;

/** An unsigned DSSE envelope of an in-toto Statement about one file (stored unverified). */
const attestationOf = (digest: string) => ({
  payloadType: 'application/vnd.in-toto+json',
  payload: Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'app.bin', digest: { sha256: digest } }],
      predicateType: 'https://cyclonedx.org/bom',
      predicate: {},
    }),
  ).toString('base64'),
  signatures: [{ sig: 'AA==' }],
});

const MATRIX: Record<string, readonly Case[]> = {
  'GET /v1/health': [{ need: NOTHING, ok: 200, request: () => ({ path: '/v1/health' }) }],
  'GET /v1/openapi.json': [{ need: NOTHING, ok: 200, request: () => ({ path: '/v1/openapi.json' }) }],
  'POST /v1/uploads': [
    {
      need: role('write'),
      ok: 201,
      request: (ns) => ({
        path: '/v1/uploads',
        body: {
          namespace: ns,
          package: 'app',
          version: '2.0.0',
          files: [{ name: 'app.bin', size: 4, sha256: sha256('next') }],
        },
      }),
    },
  ],
  'POST /v1/uploads/:uploadId/commit': [
    {
      need: role('write'),
      ok: 200,
      request: (ns, fx) => ({ path: `/v1/uploads/${fx.committedUpload[ns]}/commit` }),
    },
  ],
  'DELETE /v1/uploads/:uploadId': [
    {
      need: role('write'),
      ok: 204,
      consumes: 'openUpload',
      request: (ns, fx, who) => ({ path: `/v1/uploads/${fx.take('openUpload', ns, who)}` }),
    },
  ],
  'GET /v1/packages/:ns/:pkg/versions': [
    { need: role('read'), ok: 200, request: (ns) => ({ path: `/v1/packages/${ns}/app/versions` }) },
  ],
  'GET /v1/packages/:ns/:pkg/versions/:version': [
    { need: role('read'), ok: 200, request: (ns) => ({ path: version(ns) }) },
  ],
  'GET /v1/packages/:ns/:pkg/versions/:version/files/:name*': [
    { need: role('read'), ok: 302, request: (ns) => ({ path: version(ns, '/files/app.bin') }) },
  ],
  'POST /v1/packages/:ns/:pkg/versions/:version/promote': ['dev', 'prod'].map((stage) => ({
    variant: `to ${stage}`,
    need: role('promote', stage),
    ok: 200,
    request: (ns: Namespace) => ({ path: version(ns, '/promote'), body: { stage } }),
  })),
  'POST /v1/packages/:ns/:pkg/versions/:version/attestations': [
    {
      need: role('write'),
      ok: 201,
      request: (ns, fx) => ({ path: version(ns, '/attestations'), body: attestationOf(fx.appSha256[ns]) }),
    },
  ],
  'POST /v1/packages/:ns/:pkg/versions/:version/restore': [
    {
      need: role('admin'),
      ok: 200,
      consumes: 'tombstonedVersion',
      request: (ns, fx, who) => ({
        path: `/v1/packages/${ns}/doomed/versions/${fx.take('tombstonedVersion', ns, who)}/restore`,
      }),
    },
  ],
  'DELETE /v1/packages/:ns/:pkg/versions/:version': [
    {
      need: role('admin'),
      ok: 204,
      consumes: 'versionToDelete',
      request: (ns, fx, who) => ({
        path: `/v1/packages/${ns}/deletable/versions/${fx.take('versionToDelete', ns, who)}?reason=matrix`,
      }),
    },
  ],
  'GET /v1/namespaces': [{ need: ANY_CALLER, ok: 200, request: () => ({ path: '/v1/namespaces' }) }],
  'GET /v1/namespaces/:ns/packages': [
    { need: role('read'), ok: 200, request: (ns) => ({ path: `/v1/namespaces/${ns}/packages` }) },
  ],
  'GET /v1/packages/:ns/:pkg/stages/:stage': [
    { need: role('read'), ok: 200, request: (ns) => ({ path: `/v1/packages/${ns}/app/stages/prod` }) },
  ],
  'GET /v1/packages/:ns/:pkg/stages/:stage/files/:name*': [
    {
      need: role('read'),
      ok: 302,
      request: (ns) => ({ path: `/v1/packages/${ns}/app/stages/prod/files/app.bin` }),
    },
  ],
  'POST /v1/leases': [
    {
      need: role('write'),
      ok: 201,
      request: (ns) => ({
        path: '/v1/leases',
        body: { namespace: ns, package: 'app', version: '1.0.0', holder: 'matrix', ttlSeconds: 3600 },
      }),
    },
  ],
  'POST /v1/leases/:leaseId/renew': [
    {
      need: role('write'),
      ok: 200,
      consumes: 'leaseToRenew',
      request: (ns, fx, who) => ({
        path: `/v1/leases/${fx.take('leaseToRenew', ns, who)}/renew`,
        body: { ttlSeconds: 3600 },
      }),
    },
  ],
  'DELETE /v1/leases/:leaseId': [
    {
      need: role('write'),
      ok: 204,
      consumes: 'leaseToRelease',
      request: (ns, fx, who) => ({ path: `/v1/leases/${fx.take('leaseToRelease', ns, who)}` }),
    },
  ],
  'PUT /v1/namespaces/:ns/policy': [
    {
      need: role('admin'),
      ok: 200,
      request: (ns) => ({ path: `/v1/namespaces/${ns}/policy`, body: POLICY }),
    },
  ],
  'GET /v1/namespaces/:ns/policy': [
    { need: role('admin'), ok: 200, request: (ns) => ({ path: `/v1/namespaces/${ns}/policy` }) },
  ],
  // Webhooks are the local server's: on AWS events go to the stack's EventBridge bus (409).
  'PUT /v1/namespaces/:ns/webhooks': [
    {
      need: role('admin'),
      ok: 200,
      okOnAws: 409,
      request: (ns) => ({ path: `/v1/namespaces/${ns}/webhooks`, body: { webhooks: [] } }),
    },
  ],
  'GET /v1/namespaces/:ns/webhooks': [
    {
      need: role('admin'),
      ok: 200,
      okOnAws: 409,
      request: (ns) => ({ path: `/v1/namespaces/${ns}/webhooks` }),
    },
  ],
  'GET /v1/namespaces/:ns/webhooks/deliveries': [
    {
      need: role('admin'),
      ok: 200,
      okOnAws: 409,
      request: (ns) => ({ path: `/v1/namespaces/${ns}/webhooks/deliveries` }),
    },
  ],
  'POST /v1/gc/plan': [{ need: STORE_ADMIN, ok: 200, request: () => ({ path: '/v1/gc/plan' }) }],
  'POST /v1/gc/run': [{ need: STORE_ADMIN, ok: 200, last: true, request: () => ({ path: '/v1/gc/run' }) }],
  'GET /v1/audit': [
    {
      variant: 'of one namespace',
      need: role('admin'),
      ok: 200,
      request: (ns) => ({ path: `/v1/audit?namespace=${ns}` }),
    },
    { variant: 'of the whole store', need: STORE_ADMIN, ok: 200, request: () => ({ path: '/v1/audit' }) },
  ],
  'POST /v1/tokens': [
    {
      need: role('admin'),
      ok: 201,
      request: (ns) => ({
        path: '/v1/tokens',
        body: { name: 'matrix', roles: { [ns]: ['read'] }, ttlSeconds: 3600 },
      }),
    },
  ],
  'GET /v1/tokens': [
    { need: { kind: 'admin of some namespace' }, ok: 200, request: () => ({ path: '/v1/tokens' }) },
  ],
  'DELETE /v1/tokens/:id': [
    {
      need: role('admin'),
      ok: 204,
      consumes: 'token',
      request: (ns, fx, who) => ({ path: `/v1/tokens/${fx.take('token', ns, who)}` }),
    },
  ],
  'GET /v1/whoami': [{ need: ANY_CALLER, ok: 200, request: () => ({ path: '/v1/whoami' }) }],
  'GET /v1/search': [
    {
      variant: 'by metadata',
      need: role('read'),
      ok: 200,
      request: (ns) => ({ path: `/v1/search?namespace=${ns}&meta.commit=9f1c` }),
    },
    {
      // Answers what the caller may read (search.test.ts): every caller here reads some namespace.
      variant: 'by sha256',
      need: ANY_CALLER,
      ok: 200,
      request: (ns, fx) => ({ path: `/v1/search?sha256=${fx.appSha256[ns]}` }),
    },
  ],
  'GET /v1/keys': [{ need: NOTHING, ok: 200, request: () => ({ path: '/v1/keys' }) }],
  // On AWS a permitted rotation answers 409: keys rotate by deploying (docs/deploy.md).
  'POST /v1/keys/rotate': [
    { need: STORE_ADMIN, ok: 200, okOnAws: 409, request: () => ({ path: '/v1/keys/rotate' }) },
  ],
  'GET /v1/packages/:ns/:pkg/versions/:version/attestations': [
    { need: role('read'), ok: 200, request: (ns) => ({ path: version(ns, '/attestations') }) },
  ],
};

interface Cell {
  readonly route: string;
  readonly method: string;
  readonly kase: Case;
  readonly caller: CallerName;
  readonly ns: Namespace;
  readonly label: string;
  readonly expected: number;
}

const principals = testTokens();

/** The documented status: 401 without a token (health aside), 403 without the role, else the case's. */
function expectedStatus(kase: Case, caller: CallerName, ns: Namespace): number {
  const token = CALLERS[caller];
  if (token === null) return kase.need.kind === 'nothing' ? kase.ok : 401;
  return permits(principals.get(token)!, ns, kase.need) ? kase.ok : 403;
}

const CELLS: readonly Cell[] = Object.entries(MATRIX).flatMap(([route, cases]) =>
  cases.flatMap((kase) =>
    CALLER_NAMES.flatMap((caller) =>
      NAMESPACES.map((ns) => ({
        route,
        method: route.split(' ')[0]!,
        kase,
        caller,
        ns,
        label: `${route}${kase.variant ? ` (${kase.variant})` : ''} | ${caller} | ${ns === OWN ? 'own' : 'other'} namespace`,
        expected: expectedStatus(kase, caller, ns),
      })),
    ),
  ),
);

const SHARED = 'refused callers';

/** Calls `fn` over `items`, at most `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

describe('the authorization matrix', () => {
  it('has a row for every route of the route table, and none for a route it lacks', () => {
    const table = routes.map((r) => `${r.method} ${r.path}`).sort();
    expect(Object.keys(MATRIX).sort()).toEqual(table);
  });
});

describeForEachBackend('the authorization matrix', (kind) => {
  let s: TestServer;
  const clock = new TestClock();
  const owned = new Map<string, string>();
  const fx: Fixtures = {
    committedUpload: { alpha: '', beta: '' },
    appSha256: { alpha: '', beta: '' },
    take: (kind, ns, caller) =>
      owned.get(`${kind}|${ns}|${caller}`) ?? owned.get(`${kind}|${ns}|${SHARED}`) ?? '',
  };
  const asAdmin = async (method: string, path: string, body?: unknown, status = 200) => {
    const res = await call(s.url, method, path, body);
    if (res.status !== status)
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  /** The keys of the objects to make of `kind`: one per permitted cell, one shared by the refused. */
  const wanted = (consumable: Consumable) =>
    NAMESPACES.flatMap((ns) => [
      `${consumable}|${ns}|${SHARED}`,
      ...CELLS.filter((c) => c.kase.consumes === consumable && c.ns === ns && c.expected === c.kase.ok).map(
        (c) => `${consumable}|${ns}|${c.caller}`,
      ),
    ]).filter((key, i, all) => all.indexOf(key) === i);
  const nsOf = (key: string) => key.split('|')[1] as Namespace;

  beforeAll(async () => {
    s = await startTestServer(kind, { clock });
    // Retention that tombstones every `doomed` version but the newest once it is a day old.
    for (const ns of NAMESPACES) await asAdmin('PUT', `/v1/namespaces/${ns}/policy`, POLICY);
    const doomed = wanted('tombstonedVersion');
    await Promise.all([
      ...NAMESPACES.map(async (ns) => {
        const files = { 'app.bin': content(`matrix-${ns}`) };
        const created = await createUpload(s.url, { namespace: ns, version: '1.0.0', files });
        await uploadAll(created, files);
        fx.committedUpload[ns] = created.body.uploadId;
        fx.appSha256[ns] = sha256(files['app.bin']);
        await asAdmin('POST', `/v1/uploads/${created.body.uploadId}/commit`);
      }),
      ...doomed.map(async (key, i) => {
        const v = `r${i}`;
        const res = await publish(s.url, {
          namespace: nsOf(key),
          package: 'doomed',
          version: v,
          files: { 'd.bin': content(key) },
        });
        expect(res.status).toBe(200);
        owned.set(key, v);
      }),
    ]);
    for (const ns of NAMESPACES)
      await publish(s.url, {
        namespace: ns,
        package: 'doomed',
        version: 'keep',
        files: { 'd.bin': content() },
      });
    await s.whenIdle();
    clock.advance(2 * DAY);
    expect(await asAdmin('POST', '/v1/gc/run')).toMatchObject({ tombstoned: doomed.length });
    for (const ns of NAMESPACES) await asAdmin('POST', version(ns, '/promote'), { stage: 'prod' });
    const lease = async (ns: Namespace): Promise<string> =>
      (
        await asAdmin(
          'POST',
          '/v1/leases',
          { namespace: ns, package: 'app', version: '1.0.0', holder: 'fixture', ttlSeconds: 3600 },
          201,
        )
      ).leaseId;
    const make: Record<Exclude<Consumable, 'tombstonedVersion'>, (ns: Namespace) => Promise<string>> = {
      openUpload: async (ns) =>
        (
          await asAdmin(
            'POST',
            '/v1/uploads',
            {
              namespace: ns,
              package: 'app',
              version: '3.0.0',
              files: [{ name: 'app.bin', size: 5, sha256: sha256('later') }],
            },
            201,
          )
        ).uploadId,
      leaseToRenew: (ns) => lease(ns),
      leaseToRelease: (ns) => lease(ns),
      token: async (ns) =>
        (await asAdmin('POST', '/v1/tokens', { name: 'fixture', roles: { [ns]: ['read'] } }, 201)).id,
      versionToDelete: async (ns) => {
        const v = `d${++deletable}`;
        await publish(s.url, {
          namespace: ns,
          package: 'deletable',
          version: v,
          files: { 'd.bin': content() },
        });
        return v;
      },
    };
    let deletable = 0;
    const keys = (
      ['openUpload', 'leaseToRenew', 'leaseToRelease', 'token', 'versionToDelete'] as const
    ).flatMap((k) => wanted(k).map((key) => [k, key] as const));
    await inParallel(keys, 8, async ([k, key]) => {
      owned.set(key, await make[k](nsOf(key)));
    });
  }, 120_000);
  afterAll(async () => s?.close());

  it('answers every route, caller and namespace with the documented status', async () => {
    const actual: Record<string, number> = {};
    const envelopes: string[] = [];
    const run = async (cell: Cell) => {
      const { path, body } = cell.kase.request(cell.ns, fx, cell.caller);
      const res = await call(s.url, cell.method, path, body, CALLERS[cell.caller]);
      actual[cell.label] = res.status;
      const code = { 401: 'Unauthenticated', 403: 'Forbidden' }[res.status as 401 | 403];
      if (code && res.body?.error?.code !== code)
        envelopes.push(`${cell.label}: ${JSON.stringify(res.body)}`);
    };

    await inParallel(
      CELLS.filter((c) => !c.kase.last),
      16,
      run,
    );
    for (const cell of CELLS.filter((c) => c.kase.last)) await run(cell);

    const expectedOn = (c: Cell) =>
      kind === 'aws' && c.kase.okOnAws !== undefined && c.expected === c.kase.ok
        ? c.kase.okOnAws
        : c.expected;
    expect(actual).toEqual(Object.fromEntries(CELLS.map((c) => [c.label, expectedOn(c)])));
    expect(envelopes).toEqual([]);
  }, 120_000);
});
