#!/usr/bin/env node
// The `npq` command. Runs on the Node 24 that the project installs (npx puts it first on PATH).
const [major] = process.versions.node.split('.').map(Number)
if (major < 24) {
  process.stderr.write(`npq needs Node.js 24 or later (this is ${process.version}). Run it as npx npq, after npm install.\n`)
  process.exit(2)
}
const { run } = await import('../src/cli/main.ts')
process.exitCode = await run(process.argv.slice(2))
