/**
 * A real `redis-server` for the tests: started on 127.0.0.1 on a free port, without persistence,
 * and owned by the test file that starts it. Faults are injected from outside, as they happen in
 * production: the process killed (data lost) and restarted on the same port, frozen (SIGSTOP),
 * clients paused (`CLIENT PAUSE`), the server busy (`DEBUG SLEEP`), pub/sub connections dropped.
 *
 * A missing `redis-server` fails the tests with a clear message; it never skips them.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const HOST = '127.0.0.1'
const START_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 3_000

/** Where the binary is: `REDIS_SERVER` if set, else the first `redis-server` on the PATH. */
export function redisServerBinary(): string {
  const explicit = process.env.REDIS_SERVER
  if (explicit !== undefined && explicit !== '') {
    if (!existsSync(explicit)) throw new Error(`REDIS_SERVER=${explicit} does not exist`)
    return explicit
  }
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error(
      'redis-server was not found on the PATH: the fleet-mode tests need a real Redis 7 ' +
        '(apt-get install redis-server, brew install redis, or set REDIS_SERVER=/path/to/redis-server)',
    )
  }
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** A reply of the RESP protocol, as far as the helpers need it. */
type Reply = string | number | null | Reply[]

/** Parses one reply at `at`; `undefined` when more bytes are needed. Errors come back as `Error`. */
function parseReply(buffer: Buffer, at: number): { reply: Reply | Error; next: number } | undefined {
  const end = buffer.indexOf('\r\n', at)
  if (end === -1) return undefined
  const kind = String.fromCharCode(buffer[at]!)
  const line = buffer.toString('utf8', at + 1, end)
  const next = end + 2
  switch (kind) {
    case '+':
      return { reply: line, next }
    case '-':
      return { reply: new Error(line), next }
    case ':':
      return { reply: Number(line), next }
    case '$': {
      const length = Number(line)
      if (length < 0) return { reply: null, next }
      if (buffer.length < next + length + 2) return undefined
      return { reply: buffer.toString('utf8', next, next + length), next: next + length + 2 }
    }
    case '*': {
      const count = Number(line)
      if (count < 0) return { reply: null, next }
      const items: Reply[] = []
      let position = next
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, position)
        if (item === undefined) return undefined
        if (item.reply instanceof Error) return item
        items.push(item.reply)
        position = item.next
      }
      return { reply: items, next: position }
    }
    default:
      return { reply: new Error(`unexpected reply: ${line}`), next }
  }
}

const encode = (args: readonly (string | number)[]): string =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`

/**
 * Sends one command on a connection of its own and resolves with the reply. Independent of the
 * client under test, so faults can be injected whatever state that client is in. Rejects after
 * `timeoutMs` (a frozen server never answers).
 */
export function rawCommand(
  port: number,
  args: readonly (string | number)[],
  timeoutMs = 2_000,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    let buffer = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`redis ${String(args[0])}: no reply within ${timeoutMs} ms`))
    }, timeoutMs)
    const done = (error: Error | undefined, reply?: Reply) => {
      clearTimeout(timer)
      socket.destroy()
      if (error !== undefined) reject(error)
      else resolve(reply ?? null)
    }
    socket.on('error', (error) => done(error))
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      const parsed = parseReply(buffer, 0)
      if (parsed === undefined) return
      if (parsed.reply instanceof Error) done(parsed.reply)
      else done(undefined, parsed.reply)
    })
    socket.connect(port, HOST, () => socket.write(encode(args)))
  })
}

/** Sends a command and does not wait for its reply (for `DEBUG SLEEP`, which blocks the server). */
function fireCommand(port: number, args: readonly (string | number)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    socket.on('error', reject)
    socket.connect(port, HOST, () => {
      socket.write(encode(args), () => {
        // Closed once the server is done, so it never sees a half-read command.
        socket.on('data', () => socket.destroy())
        socket.on('close', () => {})
        socket.unref()
        resolve()
      })
    })
  })
}

export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string
  /** The pid of the running server, `undefined` while it is down. */
  readonly pid: number | undefined
  /** Sends one command (its own connection) and resolves with the reply. */
  command(...args: (string | number)[]): Promise<Reply>
  /** Kills the server with SIGKILL: every key and connection is gone. */
  kill(): Promise<void>
  /** Starts the server again on the same port, empty. */
  restart(): Promise<void>
  /** Kills and restarts it. */
  crash(): Promise<void>
  /** Freezes the process (SIGSTOP): connections stay open, nothing is answered. */
  freeze(): void
  /** Thaws it (SIGCONT). */
  thaw(): void
  /** `CLIENT PAUSE ms ALL`: every client's commands wait (the pause is lifted by itself). */
  pauseClients(ms: number, mode?: 'ALL' | 'WRITE'): Promise<void>
  /** `DEBUG SLEEP seconds`: the server is busy for that long; resolves once it is busy. */
  sleep(seconds: number): Promise<void>
  /** `CLIENT KILL TYPE pubsub`; resolves with how many connections were closed. */
  killPubsub(): Promise<number>
  /** Deletes every key. */
  flush(): Promise<void>
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. Idempotent. */
  stop(): Promise<void>
}

/** Every server started by this process, stopped if the process exits without doing so. */
const running = new Set<ChildProcess>()
let exitHook = false
function hookExit(): void {
  if (exitHook) return
  exitHook = true
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL')
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function waitForPing(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited at start (${child.exitCode ?? child.signalCode}):\n${output()}`)
    }
    try {
      if ((await rawCommand(port, ['PING'], 500)) === 'PONG') return
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`redis-server did not answer PING within ${START_TIMEOUT_MS} ms:\n${output()}`)
    }
    await sleep(25)
  }
}

/** Starts a fresh `redis-server` on a free port and resolves once it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  const binary = redisServerBinary()
  hookExit()
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-redis-'))
  let port = 0
  let child: ChildProcess | undefined
  let stopped = false

  const launch = async () => {
    const started = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        HOST,
        '--save',
        '',
        '--appendonly',
        'no',
        '--enable-debug-command',
        'yes',
        '--protected-mode',
        'no',
        '--dir',
        dir,
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000)
    }
    started.stdout?.on('data', collect)
    started.stderr?.on('data', collect)
    started.on('error', (error) => {
      output += `\n${error.message}`
    })
    running.add(started)
    started.once('exit', () => running.delete(started))
    child = started
    try {
      await waitForPing(port, started, () => output)
    } catch (error) {
      started.kill('SIGKILL')
      await exited(started)
      throw error
    }
  }

  // Another process may take the free port between the probe and the start: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort()
    try {
      await launch()
      break
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true })
        throw error
      }
    }
  }

  const signal = (name: NodeJS.Signals) => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null)
      throw new Error(`redis-server is not running (cannot send ${name})`)
    child.kill(name)
  }
  const kill = async () => {
    const current = child
    if (current === undefined) return
    child = undefined
    current.kill('SIGKILL')
    await exited(current)
  }

  const server: RedisServer = {
    get port() {
      return port
    },
    get url() {
      return `redis://${HOST}:${port}`
    },
    get pid() {
      return child?.pid
    },
    command: (...args) => rawCommand(port, args),
    kill,
    async restart() {
      if (child !== undefined) throw new Error('redis-server is still running; kill() it first')
      // The port can linger a moment after a kill; retry until the new process binds it.
      const deadline = Date.now() + START_TIMEOUT_MS
      for (;;) {
        try {
          await launch()
          return
        } catch (error) {
          child = undefined
          if (Date.now() > deadline) throw error
          await sleep(50)
        }
      }
    },
    async crash() {
      await kill()
      await server.restart()
    },
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    async pauseClients(ms, mode = 'ALL') {
      await rawCommand(port, ['CLIENT', 'PAUSE', ms, mode])
    },
    async sleep(seconds) {
      await fireCommand(port, ['DEBUG', 'SLEEP', seconds])
      // Sent is not started: the server may still serve other connections' commands first. It is
      // busy once a PING on a connection of its own goes unanswered.
      const end = Date.now() + seconds * 1_000
      while (Date.now() < end) {
        const answered = await rawCommand(port, ['PING'], 100).then(
          () => true,
          () => false,
        )
        if (!answered) return
      }
    },
    async killPubsub() {
      return Number(await rawCommand(port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']))
    },
    async flush() {
      await rawCommand(port, ['FLUSHALL'])
    },
    async stop() {
      if (stopped) return
      stopped = true
      const current = child
      child = undefined
      if (current !== undefined) {
        // A frozen server ignores SIGTERM until it is thawed.
        current.kill('SIGCONT')
        current.kill('SIGTERM')
        const timer = setTimeout(() => current.kill('SIGKILL'), STOP_TIMEOUT_MS)
        await exited(current)
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return server
}
