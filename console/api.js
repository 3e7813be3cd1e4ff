/**
 * The Arca API as the console calls it: same origin, the token from sessionStorage in the
 * Authorization header (never in a URL, a cookie or localStorage).
 */
const KEY = 'arca.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

/** An answer the API refused: `code` and `message` exactly as the API sent them. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The API's error, verbatim, for the page. */
  get verbatim() {
    return `${this.status} ${this.code}: ${this.message}`;
  }
}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const bearer = token.get();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = json?.error ?? {};
    throw new ApiError(
      res.status,
      error.code ?? 'Error',
      error.message ?? (text || res.statusText),
      error.details,
    );
  }
  return json;
}

export const enc = encodeURIComponent;
export const versionPath = (ns, pkg, version) =>
  `/v1/packages/${enc(ns)}/${enc(pkg)}/versions/${enc(version)}`;
