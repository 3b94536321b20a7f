import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

// A cookie-keeping client over Fastify's inject, for page tests without a browser.

export class Agent {
  private readonly app: FastifyInstance
  private cookies = new Map<string, string>()
  constructor(app: FastifyInstance) {
    this.app = app
  }

  private keep(response: LightMyRequestResponse) {
    for (const c of response.cookies) {
      if (c.value === '' || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
    return response
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name)
  }

  /** Plants a cookie, as another site or an earlier visitor to a shared computer might. */
  setCookie(name: string, value: string): void {
    this.cookies.set(name, value)
  }

  async get(url: string, headers: Record<string, string> = {}) {
    return this.keep(await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader(), ...headers } }))
  }

  /** Posts a form the way a browser does, with the CSRF token from the page it came from. */
  async post(url: string, form: Record<string, string>, options: { csrfFrom?: string; csrf?: string | null } = {}) {
    let csrf = options.csrf
    if (csrf === undefined) csrf = csrfToken((await this.get(options.csrfFrom ?? url)).body)
    const body = new URLSearchParams({ ...(csrf === null ? {} : { _csrf: csrf }), ...form }).toString()
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        payload: body,
        headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      }),
    )
  }

  /** Posts a multipart form with one file, as a browser's file upload does. */
  async upload(url: string, form: Record<string, string>, file: { field: string; filename: string; content: string }, csrfFrom = url) {
    const csrf = csrfToken((await this.get(csrfFrom)).body)
    const boundary = `----npq${Math.random().toString(16).slice(2)}`
    const part = (headers: string, body: string) => `--${boundary}\r\n${headers}\r\n\r\n${body}\r\n`
    const payload =
      Object.entries({ _csrf: csrf, ...form })
        .map(([k, v]) => part(`Content-Disposition: form-data; name="${k}"`, v))
        .join('') +
      part(`Content-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: text/csv`, file.content) +
      `--${boundary}--\r\n`
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        payload,
        headers: { cookie: this.cookieHeader(), 'content-type': `multipart/form-data; boundary=${boundary}` },
      }),
    )
  }

  async signIn(email: string, password: string) {
    const response = await this.post('/sign-in', { email, password })
    if (response.statusCode !== 303) throw new Error(`sign-in failed for ${email}: ${response.statusCode}`)
    return response
  }
}

export function csrfToken(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  if (!match) throw new Error('no CSRF token on the page')
  return match[1]!
}

/** Text of the first element matching a tag (and optional class), with tags stripped. */
export function textOf(html: string, tag: string, className?: string): string | null {
  const re = new RegExp(`<${tag}[^>]*${className ? `class="[^"]*${className}[^"]*"` : ''}[^>]*>([\\s\\S]*?)</${tag}>`)
  const match = re.exec(html)
  return match
    ? match[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
    : null
}
