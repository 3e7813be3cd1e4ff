import { auditView, gcView } from './admin.js';
import { ApiError, api, enc, token } from './api.js';
import { empty, h, loading, route, show, stateBadge, table, when } from './dom.js';
import { versionView } from './version.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

/** What a failed load shows: the API's error verbatim, or a sign-in prompt for a 401. */
function failure(error) {
  if (error instanceof ApiError && error.status === 401) {
    token.clear();
    return signIn('Your token was refused (401). Paste a valid one.');
  }
  const text = error instanceof ApiError ? error.verbatim : String(error);
  return h('p', { class: 'error', role: 'alert' }, text);
}

function signIn(message) {
  nav.hidden = true;
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'off',
    required: true,
    'aria-label': 'Arca token',
    placeholder: 'arca_… or the admin token',
  });
  const form = h(
    'form',
    { id: 'signin', class: 'card' },
    h('h1', {}, 'Sign in'),
    h(
      'p',
      {},
      'Paste an Arca token. It is kept in this tab only (sessionStorage) and sent as a bearer token.',
    ),
    message ? h('p', { class: 'error', role: 'alert' }, message) : null,
    input,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    token.set(input.value.trim());
    render();
  });
  return form;
}

/** Namespaces → packages, when the store lists them; a namespace and package can always be typed in. */
async function namespacesView() {
  const who = await api('GET', '/v1/whoami');
  const section = h(
    'section',
    {},
    h('h1', {}, 'Namespaces'),
    h('p', { class: 'muted' }, `Signed in as ${who.id}`),
  );
  try {
    const answer = await api('GET', '/v1/namespaces');
    const items = answer.items ?? answer.namespaces ?? [];
    if (items.length === 0) section.append(empty('No namespaces yet: publish a version to create one.'));
    else {
      section.append(
        h(
          'ul',
          { class: 'list' },
          items.map((n) => {
            const name = typeof n === 'string' ? n : (n.namespace ?? n.name);
            return h('li', {}, h('a', { href: route('ns', name) }, name));
          }),
        ),
      );
    }
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 405)) throw error;
    section.append(empty('This store does not list namespaces: open a package with the form above.'));
  }
  return section;
}

async function packagesView(ns) {
  const answer = await api('GET', `/v1/namespaces/${enc(ns)}/packages`);
  const items = answer.items ?? answer.packages ?? [];
  return h(
    'section',
    {},
    h('h1', {}, ns),
    items.length === 0
      ? empty('No packages in this namespace.')
      : h(
          'ul',
          { class: 'list' },
          items.map((p) => {
            const name = typeof p === 'string' ? p : (p.package ?? p.name);
            const stages = Object.entries(p.stages ?? {}).map(([stage, version]) => `${stage}: ${version}`);
            return h(
              'li',
              {},
              h('a', { href: route('pkg', ns, name) }, name),
              p.latestVersion ? h('span', { class: 'muted' }, ` latest ${p.latestVersion}`) : '',
              stages.length ? h('span', { class: 'muted' }, ` (${stages.join(', ')})`) : '',
            );
          }),
        ),
  );
}

async function packageView(ns, pkg) {
  const base = `/v1/packages/${enc(ns)}/${enc(pkg)}`;
  const first = await api('GET', `${base}/versions?limit=100`);
  const body = h('tbody', {});
  const addRows = (items) =>
    body.append(
      ...items.map((v) =>
        h(
          'tr',
          {},
          h('td', {}, h('a', { href: route('pkg', ns, pkg, v.version) }, v.version)),
          h('td', {}, stateBadge(v.state)),
          h('td', {}, (v.stages ?? []).join(', ')),
          h('td', {}, when(v.createdAt)),
          h('td', {}, v.createdBy),
        ),
      ),
    );
  addRows(first.items);
  let cursor = first.nextCursor;
  const more = h('button', { type: 'button', hidden: !cursor }, 'Load more');
  more.addEventListener('click', async () => {
    more.disabled = true;
    const page = await api('GET', `${base}/versions?limit=100&cursor=${enc(cursor)}`);
    addRows(page.items);
    cursor = page.nextCursor;
    more.disabled = false;
    more.hidden = !cursor;
  });
  const stages = [...new Set(first.items.flatMap((v) => v.stages ?? []))].sort();
  const history = h('section', { id: 'stage-history' }, h('h2', {}, 'Stage history'));
  if (stages.length === 0) history.append(empty('No version has been promoted yet.'));
  for (const stage of stages) {
    const view = await api('GET', `${base}/stages/${enc(stage)}`);
    history.append(
      h('h3', {}, stage),
      table(
        ['version', 'promoted', 'by'],
        view.history.map((e) =>
          h('tr', {}, h('td', {}, e.version), h('td', {}, when(e.promotedAt)), h('td', {}, e.by)),
        ),
        { class: 'history', dataset: { stage } },
      ),
    );
  }
  return h(
    'section',
    {},
    h('p', { class: 'crumbs' }, h('a', { href: route('ns', ns) }, ns), ' / '),
    h('h1', {}, pkg),
    first.items.length === 0
      ? empty('No versions.')
      : h(
          'table',
          { id: 'versions' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['version', 'state', 'stages', 'committed', 'by'].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          body,
        ),
    more,
    history,
  );
}

/** `#/pkg/ns/pkg/version` → the parts, decoded. */
function parts() {
  return location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
}

async function render() {
  if (!token.get()) return show(main, signIn());
  nav.hidden = false;
  show(main, loading());
  const [view, ...args] = parts();
  try {
    const content =
      view === 'ns'
        ? await packagesView(args[0])
        : view === 'pkg' && args.length === 3
          ? await versionView(args[0], args[1], args[2])
          : view === 'pkg'
            ? await packageView(args[0], args[1])
            : view === 'audit'
              ? await auditView()
              : view === 'gc'
                ? await gcView()
                : await namespacesView();
    show(main, content);
  } catch (error) {
    show(main, failure(error));
  }
}

document.getElementById('jump').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  location.hash = route('pkg', form.namespace.value.trim(), form.package.value.trim());
});
document.getElementById('signout').addEventListener('click', () => {
  token.clear();
  location.hash = '#/';
  render();
});
window.addEventListener('hashchange', render);
render();
