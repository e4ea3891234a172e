/**
 * Replicas as child processes (test/redis/fixtures/replica.mjs, on the built package), and what
 * they report: loader calls, changes, loads, errors, snapshots, final summaries.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const REPLICA = fileURLToPath(new URL('./fixtures/replica.mjs', import.meta.url))

import { ensureBuilt } from '../build.js'

export { ensureBuilt }

/** One JSON line printed by a replica. */
export interface Line {
  readonly t: string
  readonly name?: string
  readonly id?: string
  readonly at?: number
  readonly version?: number
  readonly source?: string
  readonly code?: string
  readonly message?: string
  readonly resources?: Record<string, [number, string | null]>
  readonly [key: string]: unknown
}

export interface ReplicaConfig {
  readonly id?: string
  readonly url: string
  readonly via?: 'url' | 'client'
  readonly prefix: string
  readonly resources?: number
  readonly interval?: number
  readonly jitter?: number
  readonly timeout?: number
  readonly loaderMs?: number
  readonly slow?: Record<string, number>
  readonly leaseTtl?: number
  readonly commandTimeout?: number
  readonly readEvery?: number
  readonly alone?: boolean
}

/** A replica process and everything it printed. */
export class Replica {
  readonly id: string
  readonly lines: Line[] = []
  readonly stderr: string[] = []
  readonly child: ChildProcess
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #waiters = new Set<() => void>()

  constructor(config: ReplicaConfig) {
    this.id = config.id ?? 'replica'
    this.child = spawn(process.execPath, [REPLICA, JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let buffered = ''
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      let nl = buffered.indexOf('\n')
      while (nl !== -1) {
        const text = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        nl = buffered.indexOf('\n')
        try {
          this.lines.push({ ...(JSON.parse(text) as Line), replica: this.id })
        } catch {
          this.stderr.push(`(stdout) ${text}`)
        }
      }
      for (const wake of this.#waiters) wake()
    })
    this.child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()))
    // A replica that died cannot read its stdin; writing to it must not crash the test.
    this.child.stdin!.on('error', () => {})
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        resolve({ code, signal })
        for (const wake of this.#waiters) wake()
      })
    })
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Lines of one type. */
  of(type: string): Line[] {
    return this.lines.filter((l) => l.t === type)
  }

  send(command: string): void {
    if (this.alive) this.child.stdin!.write(`${command}\n`)
  }

  /** Resolves with the first line (from index `from`) matching `predicate`. */
  waitFor(predicate: (line: Line) => boolean, timeoutMs: number, what: string, from = 0): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.lines.length; i++) {
          if (predicate(this.lines[i]!)) {
            done()
            resolve(this.lines[i]!)
            return
          }
        }
        if (!this.alive) {
          done()
          reject(new Error(`replica ${this.id} exited while waiting for ${what}\n${this.diagnostics()}`))
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`replica ${this.id}: no ${what} within ${timeoutMs} ms\n${this.diagnostics()}`))
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(check)
      }
      this.#waiters.add(check)
      check()
    })
  }

  /** Its current versions and value ids, per resource. */
  async snapshot(): Promise<Record<string, [number, string | null]>> {
    const from = this.lines.length
    this.send('snapshot')
    const line = await this.waitFor((l) => l.t === 'snapshot', 5_000, 'snapshot', from)
    return line.resources!
  }

  /** Stops the replica; resolves with its final summary once it has exited by itself. */
  async stop(timeoutMs = 5_000): Promise<Line> {
    const from = this.lines.length
    this.send('stop')
    const final = await this.waitFor((l) => l.t === 'final', timeoutMs, 'final summary', from)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    const { code, signal } = await this.exited
    clearTimeout(timer)
    if (code !== 0) {
      throw new Error(
        `replica ${this.id} did not exit by itself after stop() (code ${code}, signal ${signal})\n${this.diagnostics()}`,
      )
    }
    return final
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal)
  }

  diagnostics(): string {
    const fatal = this.lines.filter((l) => l.t === 'fatal').map((l) => l.message)
    const tail = this.lines
      .slice(-8)
      .map((l) => JSON.stringify(l))
      .join('\n')
    return [...fatal, ...this.stderr, tail].join('\n').slice(-4_000)
  }
}

/** A fleet of replicas sharing one prefix. */
export class Fleet {
  readonly replicas: Replica[]

  constructor(size: number, config: Omit<ReplicaConfig, 'id'>) {
    this.replicas = Array.from({ length: size }, (_, i) => new Replica({ ...config, id: `R${i}` }))
  }

  async ready(timeoutMs = 10_000): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.waitFor((l) => l.t === 'ready', timeoutMs, 'ready')))
  }

  /** Every line of every replica, in time order for lines that carry a time. */
  lines(type: string): Line[] {
    return this.replicas.flatMap((r) => r.of(type)).sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
  }

  /**
   * Resolves once the live replicas agree on every resource: each has a value, their versions are
   * at most one refresh apart (the fleet keeps refreshing while it is sampled) and replicas at the
   * same version hold the same value. Rejects with the last snapshots after `timeoutMs`.
   */
  async converged(timeoutMs: number): Promise<Record<string, [number, string | null]>[]> {
    const deadline = Date.now() + timeoutMs
    let last: Record<string, [number, string | null]>[] = []
    for (;;) {
      const live = this.replicas.filter((r) => r.alive)
      last = await Promise.all(live.map((r) => r.snapshot()))
      if (agree(last)) return last
      if (Date.now() > deadline) {
        throw new Error(`the fleet did not converge within ${timeoutMs} ms:\n${JSON.stringify(last)}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /**
   * Pairs (resource, version) that were seen with different values across the fleet: a version
   * must name one value everywhere.
   */
  conflicts(): string[] {
    const ids = new Map<string, Set<string>>()
    for (const line of [...this.lines('change'), ...this.lines('load')]) {
      if (line.id === undefined || line.id === null) continue
      const key = `${line.name}@${line.version}`
      let set = ids.get(key)
      if (set === undefined) ids.set(key, (set = new Set()))
      set.add(line.id)
    }
    return [...ids].filter(([, set]) => set.size > 1).map(([key, set]) => `${key}: ${[...set].join(', ')}`)
  }

  async stop(): Promise<Line[]> {
    return Promise.all(this.replicas.filter((r) => r.alive).map((r) => r.stop()))
  }

  /** Kills what is left (afterEach), whatever state the test left it in. */
  kill(): void {
    for (const r of this.replicas) if (r.alive) r.kill('SIGKILL')
  }
}

function agree(snapshots: readonly Record<string, [number, string | null]>[]): boolean {
  const first = snapshots[0]
  if (first === undefined) return false
  for (const name of Object.keys(first)) {
    const entries = snapshots.map((s) => s[name])
    if (entries.some((e) => e === undefined || e[1] === null)) return false
    const versions = entries.map((e) => e![0])
    if (Math.max(...versions) - Math.min(...versions) > 1) return false
    for (const a of entries) for (const b of entries) if (a![0] === b![0] && a![1] !== b![1]) return false
  }
  return true
}

/** Versions seen through 'change' and 'load' events never go down on one replica (per resource). */
export function regressions(replica: Replica): string[] {
  const last = new Map<string, number>()
  const found: string[] = []
  for (const line of replica.lines) {
    if ((line.t !== 'change' && line.t !== 'load') || line.name === undefined) continue
    const before = last.get(line.name) ?? 0
    if (line.version! < before) found.push(`${replica.id} ${line.name}: ${before} -> ${line.version}`)
    last.set(line.name, Math.max(before, line.version!))
  }
  return found
}

/**
 * For a test file of fleets: builds dist/ before its tests, and kills the fleet a test started when
 * that test ends, whatever its outcome. Returns the function that starts a fleet.
 */
export function useFleet(): (size: number, config: Omit<ReplicaConfig, 'id'>) => Fleet {
  let current: Fleet | undefined
  beforeAll(ensureBuilt, 120_000)
  afterEach(() => {
    current?.kill()
    current = undefined
  })
  return (size, config) => {
    current = new Fleet(size, config)
    return current
  }
}
