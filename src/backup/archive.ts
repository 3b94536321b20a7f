import fs from 'node:fs'
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { Parser, type ReadEntry } from 'tar'

// The backup file: PGlite's data directory archive (.tar.gz). Checked whole before anything uses it,
// because PGlite handed a damaged archive fails without saying why (or takes the process down).

/** A refusal with the exit code of ../shared/INTERFACES.md: 1 bad input, 2 usage. */
export class BackupError extends Error {
  readonly exitCode: 1 | 2
  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message)
    this.exitCode = exitCode
  }
}

export type BackupArchive = {
  /** The uncompressed tar, as `new PGlite({ loadDataDir })` takes it. */
  tar: Uint8Array
  /** PostgreSQL major version of the data directory (its PG_VERSION). */
  postgresVersion: string
  files: number
}

/** Every file PostgreSQL needs to even try to open a data directory. */
const requiredFiles = ['PG_VERSION', 'global/pg_control', 'base', 'pg_wal']

export async function readBackup(file: string): Promise<BackupArchive> {
  let bytes: Buffer
  try {
    bytes = await fs.promises.readFile(file)
  } catch (error) {
    throw new BackupError(`cannot read ${file} (${reason(error)})`)
  }
  const notBackup = (why: string) => new BackupError(`${file} is not an npq backup: ${why}`)
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw notBackup('it is not gzip-compressed (npq backup writes a .tar.gz archive)')
  }
  let tar: Buffer
  try {
    tar = await promisify(zlib.gunzip)(bytes)
  } catch (error) {
    throw notBackup(`it is damaged or incomplete (${reason(error)})`)
  }

  const names = new Set<string>()
  let postgresVersion = ''
  try {
    await new Promise<void>((resolve, reject) => {
      const parser = new Parser({
        strict: true,
        onReadEntry: (entry: ReadEntry) => {
          // PGlite names entries /PG_VERSION, other tools ./PG_VERSION: compare without either.
          const name = entry.path.replace(/^\.?\/+/, '').replace(/\/$/, '')
          names.add(name)
          if (name === 'PG_VERSION') entry.on('data', (chunk: Buffer) => (postgresVersion += chunk.toString('utf8')))
          else entry.resume()
        },
      })
      parser.on('error', reject)
      parser.on('end', resolve)
      parser.end(tar)
    })
  } catch (error) {
    throw notBackup(`it is not a readable tar archive (${reason(error)})`)
  }
  const missing = requiredFiles.filter((name) => !names.has(name))
  if (missing.length > 0) throw notBackup(`it holds no PostgreSQL data directory (no ${missing.join(', ')})`)
  postgresVersion = postgresVersion.trim()
  if (!/^\d+$/.test(postgresVersion)) throw notBackup(`its PG_VERSION says "${postgresVersion.slice(0, 20)}", not a version`)
  return { tar, postgresVersion, files: names.size }
}

export function reason(error: unknown): string {
  if (error instanceof Error) return 'code' in error && error.code === 'ENOENT' ? 'no such file' : error.message
  return String(error)
}
