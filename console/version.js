import { api, enc, versionPath } from './api.js';
import { bytes, empty, errorText, h, route, stateBadge, table, when } from './dom.js';

/** Asks for a signed URL (with the token, by fetch), then lets the browser download from it. */
async function download(path, name, status) {
  status.textContent = '';
  try {
    const { url } = await api('GET', `${path}/files/${enc(name)}?redirect=false`);
    const link = h('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    status.textContent = errorText(error);
  }
}

function findingsOf(file) {
  const { findings = [], contents } = file.scan ?? {};
  const rows = findings.map((f) =>
    h(
      'tr',
      {},
      h('td', {}, file.name),
      h('td', {}, f.scanner),
      h('td', {}, f.rule),
      h('td', {}, f.path ?? ''),
      h('td', {}, f.message),
    ),
  );
  const archive = contents?.archive;
  const listing = archive
    ? h(
        'p',
        { class: 'muted' },
        `${file.name}: ${archive.format}, ${archive.entries} entries, ${bytes(archive.expandedBytes)} expanded`,
        archive.sboms.length ? `; SBOMs: ${archive.sboms.join(', ')}` : '',
        archive.incomplete ? ` (listing stopped: ${archive.incomplete})` : '',
      )
    : null;
  return { rows, listing };
}

function actions(path, v, refresh) {
  const result = h('p', { id: 'action-result', role: 'status' });
  const stage = h('input', {
    name: 'stage',
    placeholder: 'stage, e.g. prod',
    required: true,
    'aria-label': 'stage',
  });
  const promote = h(
    'form',
    { id: 'promote', class: 'inline' },
    stage,
    h('button', { type: 'submit' }, 'Promote'),
  );
  promote.addEventListener('submit', async (event) => {
    event.preventDefault();
    const target = stage.value.trim();
    if (!confirm(`Promote ${v.package}@${v.version} to ${target}?`)) return;
    try {
      const answer = await api('POST', `${path}/promote`, { stage: target });
      await refresh();
      document.getElementById('action-result').textContent =
        `Promoted to ${answer.stage} (previously ${answer.previousVersion ?? 'none'})`;
    } catch (error) {
      result.textContent = errorText(error);
      result.className = 'error';
    }
  });
  const reason = h('input', {
    name: 'reason',
    placeholder: 'why (required), e.g. CVE-2026-1234',
    required: true,
    'aria-label': 'reason',
  });
  const remove = h(
    'form',
    { id: 'delete', class: 'inline' },
    reason,
    h('button', { type: 'submit', class: 'danger' }, 'Delete version'),
  );
  remove.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!confirm(`Delete ${v.namespace}/${v.package}@${v.version}? It will never be served again.`)) return;
    try {
      await api('DELETE', `${path}?reason=${enc(reason.value.trim())}`);
      location.hash = route('pkg', v.namespace, v.package);
    } catch (error) {
      result.textContent = errorText(error);
      result.className = 'error';
    }
  });
  return h('section', { id: 'actions' }, h('h2', {}, 'Actions'), promote, remove, result);
}

/** One version: state, stages, metadata, files with downloads, scan findings, provenance, actions. */
export async function versionView(ns, pkg, version) {
  const path = versionPath(ns, pkg, version);
  const [v, attestations] = await Promise.all([
    api('GET', path),
    api('GET', `${path}/attestations`).catch((error) => ({ error })),
  ]);
  const section = h('section', { id: 'version' });
  const refresh = async () => section.replaceWith(await versionView(ns, pkg, version));
  const status = h('p', { class: 'error', role: 'alert' });
  const files = v.files.map((f) =>
    h(
      'tr',
      {},
      h('td', {}, f.name),
      h('td', { class: 'num' }, bytes(f.size)),
      h('td', { class: 'digest' }, h('code', {}, `sha256:${f.sha256}`)),
      h('td', {}, f.mediaType),
      h('td', {}, stateBadge(f.state)),
      h(
        'td',
        {},
        f.state === 'available'
          ? h(
              'button',
              {
                type: 'button',
                class: 'download',
                dataset: { file: f.name },
                onclick: () => download(path, f.name, status),
              },
              'Download',
            )
          : '',
      ),
    ),
  );
  const scans = v.files.map(findingsOf);
  const findings = scans.flatMap((s) => s.rows);
  const metadata = Object.entries(v.metadata ?? {});
  section.append(
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: route('ns', ns) }, ns),
      ' / ',
      h('a', { href: route('pkg', ns, pkg) }, pkg),
      ' / ',
    ),
    h('h1', {}, `${pkg}@${v.version}`),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'state'),
      h('dd', { id: 'state' }, stateBadge(v.state)),
      h('dt', {}, 'stages'),
      h('dd', { id: 'stages' }, v.stages.length ? v.stages.join(', ') : '—'),
      h('dt', {}, 'committed'),
      h('dd', {}, `${when(v.createdAt)} by ${v.createdBy}`),
      h('dt', {}, 'protected'),
      h('dd', {}, v.protected ? 'yes (promoted, leased or within retention)' : 'no'),
      h('dt', {}, 'leases'),
      h(
        'dd',
        {},
        v.leases.length ? v.leases.map((l) => `${l.holder} until ${when(l.expiresAt)}`).join('; ') : '—',
      ),
    ),
    h('h2', {}, 'Metadata'),
    metadata.length
      ? table(
          ['key', 'value'],
          metadata.map(([k, val]) => h('tr', {}, h('td', {}, k), h('td', {}, val))),
          { id: 'metadata' },
        )
      : empty('No metadata.'),
    h('h2', {}, 'Files'),
    table(['name', 'size', 'digest', 'media type', 'state', ''], files, { id: 'files' }),
    status,
    h('h2', {}, 'Scan findings'),
    findings.length
      ? table(['file', 'scanner', 'rule', 'path', 'message'], findings, { id: 'findings' })
      : empty('No findings.'),
    scans.map((s) => s.listing),
    h('h2', {}, 'Provenance and attestations'),
    attestations.error
      ? h('p', { class: 'error' }, errorText(attestations.error))
      : attestations.items.length
        ? table(
            ['id', 'kind', 'predicate type', 'signed by', 'verified'],
            attestations.items.map((a) =>
              h(
                'tr',
                {},
                h('td', {}, a.id),
                h('td', {}, a.kind),
                h('td', {}, a.predicateType),
                h('td', {}, a.signedBy),
                h('td', {}, a.verified ? 'yes' : 'no'),
              ),
            ),
            { id: 'attestations' },
          )
        : empty('No attestations yet: the store signs provenance once the version is available.'),
    actions(path, v, refresh),
  );
  return section;
}
