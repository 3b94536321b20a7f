import fs from 'node:fs'

/** Debian's Chromium (or CHROMIUM_PATH); null when there is none. */
export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[]
  return candidates.find((p) => fs.existsSync(p)) ?? null
}
