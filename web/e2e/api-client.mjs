// A small REST client for Keel's API with a session cookie, used by run.mjs (to seed
// data) and by lib.mjs's api() (in tests). Node's own fetch; no browser.

/** One signed-in (or anonymous) user's view of the API at `baseUrl`. */
export class ApiClient {
  /** @param {string} baseUrl e.g. http://127.0.0.1:41234 */
  constructor(baseUrl) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.origin = new URL(this.baseUrl).origin;
    /** @type {string | null} the session cookie, `name=value` */
    this.cookie = null;
  }

  /** Sign in with a password; keeps the session cookie for the next requests. */
  async login(email, password) {
    const res = await this.request('/api/v1/auth/login', { method: 'POST', body: { email, password } });
    if (res.status !== 200) {
      throw new Error(`sign-in as ${email} failed: ${res.status} ${res.text}`);
    }
    const setCookies = res.headers.getSetCookie();
    const session = setCookies.map((c) => c.split(';')[0]).find((c) => c.includes('=') && !c.endsWith('='));
    if (!session) throw new Error(`sign-in as ${email} set no session cookie`);
    this.cookie = session;
    return res.body;
  }

  /**
   * Any API call. `body` (an object) is sent as JSON. Writes carry this server's Origin,
   * as a page of Keel's would (the CSRF check wants it for cookie sessions).
   * @returns {Promise<{status: number, ok: boolean, headers: Headers, body: any, text: string}>}
   */
  async request(path, { method = 'GET', body, headers = {} } = {}) {
    const h = { accept: 'application/json', ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (body !== undefined) h['content-type'] = 'application/json';
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase())) h.origin = this.origin;
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await res.text();
    let parsed = null;
    if (text && /json/.test(res.headers.get('content-type') ?? '')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    return { status: res.status, ok: res.ok, headers: res.headers, body: parsed ?? (text || null), text };
  }

  /** POST a record and return it; throws unless the answer is 201. */
  async create(entity, record) {
    const res = await this.request(`/api/v1/${entity}`, { method: 'POST', body: record });
    if (res.status !== 201) throw new Error(`create ${entity} failed: ${res.status} ${res.text}`);
    return res.body;
  }
}
