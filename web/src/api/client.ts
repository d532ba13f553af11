// The one way the web app talks to Keel: the public REST API on the same origin, with
// the session cookie. Errors arrive as RFC 9457 problem+json and become `ApiError`s.

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fieldErrors: FieldError[];
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    const detail = typeof body.detail === 'string' ? body.detail : undefined;
    const title = typeof body.title === 'string' ? body.title : undefined;
    super(detail ?? title ?? `Request failed (${status})`);
    this.status = status;
    this.code = typeof body.code === 'string' ? body.code : 'unknown';
    this.fieldErrors = Array.isArray(body.errors) ? (body.errors as FieldError[]) : [];
    this.body = body;
  }

  /** The message for one field, when the server named it. */
  forField(field: string): string | undefined {
    return this.fieldErrors.find((e) => e.field === field)?.message;
  }
}

/** Thrown when the network itself failed (server down, offline). */
export class NetworkError extends Error {
  constructor() {
    super('Could not reach Keel. Check your connection and try again.');
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  /** A non-JSON body (a file), sent as is with the caller's Content-Type. */
  rawBody?: Blob;
  query?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

let onUnauthenticated: (() => void) | undefined;

/** Called when any request comes back 401 (the session ended): the app shows sign-in. */
export function setUnauthenticatedHandler(handler: () => void) {
  onUnauthenticated = handler;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  let body: string | Blob | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), {
      method: opts.method ?? 'GET',
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new NetworkError();
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { detail: text };
    }
  }
  if (!res.ok) {
    const problem = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
    const err = new ApiError(res.status, problem);
    if (res.status === 401 && err.code === 'unauthenticated' && onUnauthenticated) onUnauthenticated();
    throw err;
  }
  return parsed as T;
}

/** A message fit for a toast, whatever was thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.fieldErrors.length > 0 && e.fieldErrors[0]) return e.fieldErrors[0].message;
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return 'Something went wrong';
}
