import net from 'node:net'

// A fake SMTP server for tests that run the platform as real processes (crash, scale-out): it records
// each message's recipients. `acceptDelayMs` makes it take a moment to accept each message (so several
// workers each get a share of a queue); in `hang` mode new connections get no answer at all (a provider
// that hangs), until `setMode('answer')` drops them.

export function fakeSmtp(options: { acceptDelayMs?: number } = {}) {
  const received: string[] = []
  const hung = new Set<net.Socket>()
  let mode: 'answer' | 'hang' = 'answer'
  const open = new Set<net.Socket>()
  const listener = net.createServer((socket) => {
    socket.on('error', () => {})
    open.add(socket)
    socket.on('close', () => open.delete(socket))
    if (mode === 'hang') {
      hung.add(socket)
      socket.on('close', () => hung.delete(socket))
      return
    }
    let buffer = ''
    let inData = false
    let recipients: string[] = []
    socket.write('220 fake ESMTP\r\n')
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1')
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n')
          if (end < 0) return
          buffer = buffer.slice(end + 5)
          inData = false
          received.push(...recipients)
          recipients = []
          if (options.acceptDelayMs) setTimeout(() => socket.write('250 queued\r\n'), options.acceptDelayMs)
          else socket.write('250 queued\r\n')
          continue
        }
        const eol = buffer.indexOf('\r\n')
        if (eol < 0) return
        const line = buffer.slice(0, eol)
        buffer = buffer.slice(eol + 2)
        const verb = line.slice(0, 4).toUpperCase()
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 fake\r\n')
        else if (verb === 'RCPT') {
          recipients.push(/<([^>]*)>/.exec(line)?.[1]?.toLowerCase() ?? '')
          socket.write('250 ok\r\n')
        } else if (verb === 'DATA') {
          inData = true
          socket.write('354 go ahead\r\n')
        } else if (verb === 'QUIT') socket.end('221 bye\r\n')
        else socket.write('250 ok\r\n')
      }
    })
  })
  listener.listen(0, '127.0.0.1')
  return {
    received,
    hung,
    get port() {
      return (listener.address() as net.AddressInfo).port
    },
    setMode(m: 'answer' | 'hang') {
      mode = m
      if (m === 'answer') for (const s of hung) s.destroy()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy()
        listener.close(() => resolve())
      }),
  }
}

/** A TCP port free on this machine now (for a process the test starts). */
export async function freePort(): Promise<number> {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const found = (probe.address() as net.AddressInfo).port
  await new Promise((resolve) => probe.close(resolve))
  return found
}
