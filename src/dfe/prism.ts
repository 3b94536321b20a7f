import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

// For tests: Prism mocking DfE's Lead Provider API v3 from the spec kept in the repository, with
// `--errors`, so a request that does not conform to the spec is refused (422, or 401 without the
// bearer token) — tests that get a 2xx prove conformance. `--dynamic` answers with random data that
// conforms to the response schemas (the spec's own examples do not: statement_id "cd3a12347-…" is
// no UUID, which Prism with --errors turns into a 500).

const root = path.resolve(import.meta.dirname, '../..')
export const dfeSpecPath = path.join(root, 'spec/dfe-npq-api/v3/swagger.yaml')
const prismCli = path.join(root, 'node_modules/@stoplight/prism-cli/dist/index.js')

export type Prism = {
  /** The mocked API's base URL, like DFE_API_URL (…/api/v3). */
  url: string
  /** Prism's log lines naming each violation it found, to show when a test fails. */
  violations(): string[]
  close(): Promise<void>
}

/**
 * The spec marks properties `required: true` inside `properties` (not JSON Schema). Prism's
 * validator then gives up on the whole schema without a word and accepts any body, so those lines
 * are dropped from a temporary copy; the `required` lists that mean the same stay.
 */
export function validatableSpec(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s+required: (true|false)$/.test(line))
    .join('\n')
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export async function startPrism(): Promise<Prism> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-prism-'))
  const spec = path.join(dir, 'swagger.yaml')
  fs.writeFileSync(spec, validatableSpec(fs.readFileSync(dfeSpecPath, 'utf8')))
  const port = await freePort()
  const child = spawn(process.execPath, [prismCli, 'mock', '--errors', '--dynamic', '-h', '127.0.0.1', '-p', String(port), spec], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SCARF_ANALYTICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
  })
  const lines: string[] = []
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Prism did not start in 60 s:\n${lines.slice(-20).join('\n')}`)), 60_000)
    const onData = (chunk: Buffer) => {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      if (lines.some((l) => l.includes('Prism is listening'))) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Prism exited (${code}) before listening:\n${lines.slice(-20).join('\n')}`))
    })
  })
  return {
    url: `http://127.0.0.1:${port}/api/v3`,
    violations: () => lines.filter((l) => l.includes('Violation')),
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
