/**
 * The console's one way to build DOM: text always goes in as text nodes (never parsed as HTML), so a
 * version name or metadata value holding `<script>` shows as those characters.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function show(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export function table(headers, rows, attrs = {}) {
  return h(
    'table',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

export const bytes = (n) => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
};

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

/** A link inside the console: every part of the route is encoded. */
export const route = (...parts) => `#/${parts.map(encodeURIComponent).join('/')}`;

export const loading = () => h('p', { class: 'muted' }, 'Loading…');
export const empty = (text) => h('p', { class: 'empty' }, text);
export const stateBadge = (state) => h('span', { class: `state ${state}` }, state);

/** An API error exactly as the API worded it, or any other failure's message. */
export const errorText = (error) => error?.verbatim ?? String(error?.message ?? error);
