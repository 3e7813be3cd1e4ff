import { api, enc } from './api.js';
import { empty, errorText, h, table, when } from './dom.js';

/** The audit log with filters (namespace, since), oldest first, paged. */
export async function auditView() {
  const namespace = h('input', {
    name: 'namespace',
    placeholder: 'namespace (all: store admins)',
    'aria-label': 'namespace',
  });
  const since = h('input', { name: 'since', type: 'datetime-local', 'aria-label': 'since' });
  const actionFilter = h('input', {
    name: 'action',
    placeholder: 'action contains…',
    'aria-label': 'action',
  });
  const results = h('div', { id: 'audit-results' });
  const form = h(
    'form',
    { id: 'audit-filter', class: 'inline' },
    namespace,
    since,
    actionFilter,
    h('button', { type: 'submit' }, 'Filter'),
  );
  const load = async () => {
    const query = new URLSearchParams({ limit: '200' });
    if (namespace.value.trim()) query.set('namespace', namespace.value.trim());
    if (since.value) query.set('since', new Date(since.value).toISOString());
    try {
      const page = await api('GET', `/v1/audit?${query}`);
      const wanted = actionFilter.value.trim();
      const items = page.items.filter((e) => !wanted || e.action.includes(wanted));
      results.replaceChildren(
        items.length === 0
          ? empty('No audit events match.')
          : table(
              ['at', 'actor', 'action', 'namespace', 'target', 'details'],
              items.map((e) =>
                h(
                  'tr',
                  {},
                  h('td', {}, when(e.at)),
                  h('td', {}, e.actor),
                  h('td', {}, e.action),
                  h('td', {}, e.namespace),
                  h('td', {}, e.target),
                  h('td', {}, h('code', {}, e.details ? JSON.stringify(e.details) : '')),
                ),
              ),
              { id: 'audit' },
            ),
        page.nextCursor ? h('p', { class: 'muted' }, 'More events exist: narrow the filter (since).') : '',
      );
    } catch (error) {
      results.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(error)));
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  await load();
  return h('section', {}, h('h1', {}, 'Audit log'), form, results);
}

/** The GC plan: what a run would do now, and why; changes nothing (store admins). */
export async function gcView() {
  const plan = await api('POST', '/v1/gc/plan', { limit: 500 });
  const counts = Object.entries(plan.counts);
  return h(
    'section',
    { id: 'gc' },
    h('h1', {}, 'GC plan'),
    h(
      'p',
      { class: 'muted' },
      'A dry run: what the next GC run would delete now, and why. Promoted, leased and recent versions are protected and never listed.',
    ),
    table(
      ['action', 'count'],
      counts.map(([action, n]) => h('tr', {}, h('td', {}, action), h('td', { class: 'num' }, String(n)))),
      { id: 'gc-counts' },
    ),
    plan.actions.length === 0
      ? empty('Nothing to collect: every version is protected or within retention.')
      : table(
          ['action', 'target', 'reason'],
          plan.actions.map((a) => {
            const m = /^([^/]+)\/([^@]+)@(.+)$/.exec(a.target);
            const target = m
              ? h('a', { href: `#/pkg/${enc(m[1])}/${enc(m[2])}/${enc(m[3])}` }, a.target)
              : a.target;
            return h('tr', {}, h('td', {}, a.action), h('td', {}, target), h('td', {}, a.reason));
          }),
          { id: 'gc-actions' },
        ),
  );
}
