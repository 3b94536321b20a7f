import crypto from 'node:crypto'

/** A random secret for a cookie, a one-time link or an API token: 256 bits, URL-safe. */
export function randomToken(): string {
  return crypto.randomBytes(32).toString('base64url')
}

/** Only hashes of secrets are stored; a fast hash is right for high-entropy random tokens. */
export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex')
}
