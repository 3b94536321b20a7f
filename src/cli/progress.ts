// Progress on stderr for long commands: a line that rewrites itself on a terminal, plain lines
// otherwise (at most one every few seconds for counts), nothing with --quiet.

export type Progress = (line: string) => void

export function progressReporter(quiet = false, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (quiet) return () => {}
  if (stream.isTTY) {
    return (line) => stream.write(`\r\x1b[2K${line}${line.endsWith('done') || /done/.test(line) ? '\n' : ''}`)
  }
  let last = 0
  return (line) => {
    const now = Date.now()
    if (now - last >= 2000 || /done|\bdemo: [a-z]+$/.test(line)) {
      stream.write(`${line}\n`)
      last = now
    }
  }
}
