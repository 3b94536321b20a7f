import net from 'node:net'
import type { PGlite } from '@electric-sql/pglite'

// Serves one PGlite instance to many PostgreSQL wire-protocol clients (the `pg` pool, pg-boss).
//
// PGlite is a single backend session, so clients must take turns. pglite-socket's own multiplexer
// takes turns per *message*, which lets two clients' extended-protocol messages (Parse/Bind/Execute…
// Sync) interleave and clobber each other's unnamed statements (we saw wrong rows under a parallel
// pool). Here a client holds the backend from its first message until PGlite answers ReadyForQuery
// with status idle: that covers a whole extended-protocol exchange, COPY, and an open transaction.
//
// A few commands are answered by this process rather than by PostgreSQL (`npq backup`: see
// src/backup/snapshot.ts). They are taken only from a client that starts an exchange, so they run
// between other clients' transactions, and their bytes go back as a COPY TO STDOUT stream.

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102
const READY_FOR_QUERY = 0x5a // 'Z'
const TERMINATE = 0x58 // 'X'
const IDLE = 0x49 // 'I'
const QUERY = 0x51 // 'Q'
const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4])
const COPY_CHUNK = 256 * 1024

/** A command served by this process: what it returns is sent to the client as COPY data. */
export type CopyOutCommand = (db: PGlite) => Promise<Uint8Array>

class Client {
  buffer = Buffer.alloc(0)
  started = false
  pending: Uint8Array[] = []
  closed = false
  readonly socket: net.Socket
  constructor(socket: net.Socket) {
    this.socket = socket
  }

  /** Splits the buffered bytes into whole protocol messages. */
  takeMessages(): Uint8Array[] {
    const messages: Uint8Array[] = []
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) break
        const length = this.buffer.readInt32BE(0)
        if (this.buffer.length < length) break
        const code = this.buffer.readInt32BE(4)
        const message = this.buffer.subarray(0, length)
        this.buffer = this.buffer.subarray(length)
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.socket.write('N')
          continue
        }
        if (code === CANCEL_REQUEST) {
          this.socket.end()
          continue
        }
        this.started = true
        messages.push(Uint8Array.from(message))
        continue
      }
      if (this.buffer.length < 5) break
      const length = 1 + this.buffer.readInt32BE(1)
      if (this.buffer.length < length) break
      messages.push(Uint8Array.from(this.buffer.subarray(0, length)))
      this.buffer = this.buffer.subarray(length)
    }
    return messages
  }
}

export class EmbeddedServer {
  private readonly db: PGlite
  private server: net.Server | null = null
  private readonly clients = new Set<Client>()
  /** The client that holds the backend (mid-exchange or in a transaction), if any. */
  private owner: Client | null = null
  private readonly waiting: Client[] = []
  private running = false
  private readonly commands: ReadonlyMap<string, CopyOutCommand>
  port = 0

  constructor(db: PGlite, commands: Record<string, CopyOutCommand> = {}) {
    this.db = db
    this.commands = new Map(Object.entries(commands))
  }

  async start(host = '127.0.0.1', port = 0): Promise<number> {
    await this.db.waitReady
    this.server = net.createServer((socket) => this.accept(socket))
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(port, host, () => resolve())
    })
    this.port = (this.server.address() as net.AddressInfo).port
    return this.port
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.socket.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    this.server = null
  }

  private accept(socket: net.Socket) {
    socket.setNoDelay(true)
    const client = new Client(socket)
    this.clients.add(client)
    socket.on('data', (data) => {
      client.buffer = Buffer.concat([client.buffer, data])
      for (const message of client.takeMessages()) {
        if (message[0] === TERMINATE && client.started) {
          socket.end()
          continue
        }
        client.pending.push(message)
      }
      if (client.pending.length > 0 && client !== this.owner && !this.waiting.includes(client)) {
        this.waiting.push(client)
      }
      void this.run()
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => void this.disconnect(client))
  }

  private async disconnect(client: Client) {
    client.closed = true
    client.pending = []
    this.clients.delete(client)
    const index = this.waiting.indexOf(client)
    if (index >= 0) this.waiting.splice(index, 1)
    if (this.owner === client) {
      // A client that vanished mid-exchange or mid-transaction must not leave its state behind.
      // Raw messages only: exec() would wait for the query lock that runExclusive already holds.
      await this.db.runExclusive(async () => {
        await this.db.execProtocolRawStream(SYNC, { onRawData: () => {} })
        if (this.db.isInTransaction()) await this.db.execProtocolRawStream(simpleQuery('ROLLBACK'), { onRawData: () => {} })
      })
      this.owner = null
      void this.run()
    }
  }

  private async run() {
    if (this.running) return
    this.running = true
    try {
      for (;;) {
        let client: Client | undefined
        let startsExchange = false
        if (this.owner) {
          if (this.owner.pending.length === 0) break // wait for the owner's next message
          client = this.owner
        } else {
          client = this.waiting.shift()
          if (!client) break
          startsExchange = true
        }
        const message = client.pending.shift()!
        const command = startsExchange ? this.commandOf(message) : undefined
        const idle = command ? await this.serveCopyOut(client, command) : await this.execute(client, message)
        if (client.closed) continue
        this.owner = idle ? null : client
        if (idle && client.pending.length > 0) this.waiting.push(client)
      }
    } finally {
      this.running = false
    }
  }

  private commandOf(message: Uint8Array): CopyOutCommand | undefined {
    // Cheap tests first: this sees the first message of every exchange.
    if (message[0] !== QUERY || this.commands.size === 0 || message.length > 256) return undefined
    const text = Buffer.from(message.subarray(5, message.length - 1)).toString('utf8')
    return this.commands.get(text.trim().replace(/;$/, ''))
  }

  /** Answers a command of ours as PostgreSQL answers COPY … TO STDOUT (or with an error); leaves PGlite idle. */
  private async serveCopyOut(client: Client, command: CopyOutCommand): Promise<true> {
    let frames: Buffer[]
    try {
      const data = await command(this.db)
      frames = [message('H', Buffer.from([1, 0, 0]))] // binary format, no columns
      for (let at = 0; at < data.length; at += COPY_CHUNK) frames.push(message('d', data.subarray(at, at + COPY_CHUNK)))
      frames.push(message('c'), message('C', cString('COPY 1')))
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error)
      frames = [
        message('E', Buffer.concat([cString('SERROR'), cString('VERROR'), cString('C58000'), cString(`M${text}`), Buffer.from([0])])),
      ]
    }
    frames.push(message('Z', Buffer.from('I')))
    if (!client.closed && client.socket.writable) client.socket.write(Buffer.concat(frames))
    return true
  }

  /** Runs one message; true when PGlite ended with ReadyForQuery(idle). */
  private async execute(client: Client, message: Uint8Array): Promise<boolean> {
    let tail = Buffer.alloc(0)
    await this.db.runExclusive(() =>
      this.db.execProtocolRawStream(message, {
        onRawData: (chunk: Uint8Array) => {
          if (chunk.length === 0) return
          if (!client.closed && client.socket.writable) client.socket.write(chunk)
          tail = Buffer.concat([tail, chunk]).subarray(-6)
        },
      }),
    )
    return tail.length === 6 && tail[0] === READY_FOR_QUERY && tail.readInt32BE(1) === 5 && tail[5] === IDLE
  }
}

function message(type: string, body: Uint8Array = new Uint8Array(0)): Buffer {
  const header = Buffer.alloc(5)
  header.write(type, 0, 'latin1')
  header.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}

const cString = (text: string) => Buffer.from(`${text}\0`, 'utf8')

function simpleQuery(sql: string): Uint8Array {
  return Uint8Array.from(message('Q', cString(sql)))
}
