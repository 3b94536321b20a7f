import type { PGlite } from '@electric-sql/pglite'

// How `npq backup` copies the embedded database, wherever it is open.
//
// Only one process may open PGlite's files, and PGlite's `dumpDataDir()` can only be called by that
// process. So the snapshot is always taken inside the process that holds the database — the running
// server, or the `npq` command itself when no server runs — and `npq backup` asks for it over the
// same PostgreSQL connection every command already uses (src/db/embedded-server.ts answers this one
// command itself and streams the archive back as COPY data). That gives one path for both cases, no
// second listener or credentials, and a consistent copy for free: the embedded server hands the
// database to one client at a time from the start of an exchange until it is idle again, so the
// command runs between transactions, never inside one, and nothing else runs while it does.
//
// The copy is physical: PGlite's own data directory archive (a .tar.gz that `new PGlite({ loadDataDir })`
// opens), taken after a CHECKPOINT so every committed change is in the data files and opening the
// copy needs no WAL replay. A logical dump would need pg_dump, which this platform does not require
// (and whose major version must match PGlite's); the price is that a backup opens only with the
// same PostgreSQL major version of PGlite (the archive's PG_VERSION), which `npq restore` checks.

/** The command `npq backup` sends; a syntax error on any real PostgreSQL, so it can never mean anything else. */
export const backupCommand = 'NPQ BACKUP EMBEDDED DATABASE'

/** A consistent .tar.gz of the data directory. Call only while no other client is using `db`. */
export async function snapshotDataDir(db: PGlite): Promise<Uint8Array> {
  await db.exec('CHECKPOINT')
  const archive = await db.dumpDataDir('gzip')
  return new Uint8Array(await archive.arrayBuffer())
}
