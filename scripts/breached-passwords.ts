import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { dictionary } from '@zxcvbn-ts/language-common'

// Regenerates src/accounts/breached-passwords.txt, the deny list new passwords are checked against
// (NCSC: refuse the most common passwords). `node scripts/breached-passwords.ts`. The package is a
// devDependency: production reads only the text file, so it never loads or depends on it.

const packageName = '@zxcvbn-ts/language-common'
const { version, license } = createRequire(import.meta.url)(`${packageName}/package.json`) as { version: string; license: string }
const copyright = fs
  .readFileSync(
    createRequire(import.meta.url)
      .resolve(`${packageName}/package.json`)
      .replace(/package\.json$/, 'LICENSE.txt'),
    'utf8',
  )
  .split('\n')
  .filter((line) => line.startsWith('Copyright'))
const target = path.resolve(import.meta.dirname, '../src/accounts/breached-passwords.txt')

const seen = new Set<string>()
for (const entry of dictionary['passwords-common']) {
  const password = entry.trim().toLowerCase()
  // Lines starting with # are comments in the file; the one such entry ('#name?') is a spreadsheet error, not a password.
  if (password && !password.startsWith('#')) seen.add(password)
}

const header = [
  `# Common and breached passwords, refused as new passwords (src/accounts/passwords.ts).`,
  `# Source: npm package ${packageName} ${version} (${license} licence), its passwords-common dictionary,`,
  `# drawn from leaked password lists; most common first, lower-case, one a line.`,
  ...copyright.map((line) => `# ${line}`),
  `# Regenerate with: node scripts/breached-passwords.ts`,
]
fs.writeFileSync(target, [...header, ...seen].join('\n') + '\n')
process.stdout.write(`${seen.size} passwords written to ${path.relative(process.cwd(), target)}\n`)
