import argon2 from 'argon2'

// argon2id with the library's defaults (OWASP-recommended memory and time costs).

export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id })
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password)
  } catch {
    return false
  }
}

// Verifying against this when no account matches keeps the response time the same either way,
// so timing does not reveal whether an email address has an account.
let decoyHash: Promise<string> | undefined
export async function verifyDecoy(password: string): Promise<void> {
  decoyHash ??= hashPassword('decoy password that matches nothing')
  await verifyPassword(await decoyHash, password)
}

// NCSC guidance: length over complexity, and refuse the passwords attackers try first.
const MIN_LENGTH = 10
const MAX_LENGTH = 256
const commonPasswords = new Set([
  'password',
  'password1',
  'password12',
  'password123',
  'passw0rd',
  'qwerty',
  'qwertyuiop',
  '1234567890',
  '123456789',
  '12345678',
  '123123123',
  '1q2w3e4r5t',
  'iloveyou',
  'letmein',
  'welcome',
  'welcome1',
  'admin',
  'administrator',
  'trustno1',
  'football',
  'monkey',
  'dragon',
  'sunshine',
  'princess',
  'qwerty123',
  'abc123',
  'teacher',
  'teacher123',
  'school123',
  'headteacher',
  'changeme',
  'changeme123',
])

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, email: string): string | null {
  if (password.length < MIN_LENGTH) return `Password must be ${MIN_LENGTH} characters or more`
  if (password.length > MAX_LENGTH) return `Password must be ${MAX_LENGTH} characters or fewer`
  const lower = password.toLowerCase()
  if (commonPasswords.has(lower) || /^(.)\1+$/.test(password)) return 'Password is too easy to guess'
  if (lower.includes(email.toLowerCase().split('@')[0]!) && email.split('@')[0]!.length >= 4) {
    return 'Password must not contain your email address'
  }
  return null
}
