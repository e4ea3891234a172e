import type { LimiterJob } from '../scheduling/limiter.js'
import type { Task } from '../scheduling/scheduler.js'
import type { Lease } from '../stores/fleet.js'

/** What a loader receives. */
export interface LoadContext<T> {
  /** The resource's name. */
  readonly name: string
  /** Aborted when the load times out, or the resource is removed, or the registry stops. */
  readonly signal: AbortSignal
  /** The last good value, for conditional fetches; `undefined` before the first. */
  readonly previous: T | undefined
  /** 1 for a load after a success (or the first), n for the n-th consecutive attempt after failures. */
  readonly attempt: number
}

/** Produces a resource's value. May return it or a promise of it. */
export type Loader<T> = (context: LoadContext<T>) => T | Promise<T>

/** What a load reports to: the refresh machine of its resource. */
export interface LoadOwner<T> {
  readonly name: string
  /** The limiter gave the load a slot: call the loader. */
  begin(load: Load<T>): void
  /** The loader's promise fulfilled. */
  succeeded(load: Load<T>, value: T): void
  /** The loader's promise rejected (or the loader threw). */
  failed(load: Load<T>, error: unknown): void
}

/**
 * Wraps each loader call, for tracing (a span per load, diagnostics channels). `load` is called in
 * place of the loader when the load starts: it must call `run()` once and return what it returns.
 * The load's outcome is that of the returned value; a timeout or a stop aborts `context.signal`.
 */
export interface LoadInstrument {
  load<T>(context: LoadContext<T>, run: () => T | Promise<T>): T | Promise<T>
}

const QUEUED = 0
const RUNNING = 1
/** Detached from its resource; the outcome follows at once. */
const SETTLED = 2
const SUCCEEDED = 3
const FAILED = 4

/** The parts of a load that most loads never need, made on first use. */
interface Extra<T> {
  controller: AbortController | undefined
  abortReason: unknown
  /** What `refresh()` callers wait on. */
  deferred: Deferred<T> | undefined
  /** Fleet mode: the lease under which this load runs, and the task that renews it. */
  lease: Lease | undefined
  /** Monotonic time until which the lease is surely held: from before it was asked or last renewed. */
  leaseUntil: number
  renewal: Task | undefined
}

/**
 * One attempt to load a resource; the loader's context reads from it. Kept small on purpose: at
 * scale thousands are in flight at once, and each one a collection finds alive is copied. What only
 * the running load needs (its start time, its place among the timeouts) is kept on its resource's
 * task instead, which exists anyway: a resource runs one load at a time.
 */
export class Load<T> implements LimiterJob, LoadContext<T> {
  #phase = QUEUED
  /** How it ended, for a `join()` that comes after: the value or the error. */
  #outcome: unknown = undefined
  /** The loader's own promise, chained so it never rejects: lets `stop()` wait for it. */
  done: Promise<void> | undefined = undefined
  #extra: Extra<T> | undefined = undefined

  constructor(
    readonly owner: LoadOwner<T>,
    readonly previous: T | undefined,
    readonly attempt: number,
  ) {}

  get name(): string {
    return this.owner.name
  }

  /** Whether the loader has been called and the load has not settled. */
  get running(): boolean {
    return this.#phase === RUNNING
  }

  get settled(): boolean {
    return this.#phase >= SETTLED
  }

  get cancelled(): boolean {
    return this.settled
  }

  get lease(): Lease | undefined {
    return this.#extra?.lease
  }

  set lease(lease: Lease | undefined) {
    if (lease !== undefined || this.#extra !== undefined) this.#more().lease = lease
  }

  get leaseUntil(): number {
    return this.#extra?.leaseUntil ?? Number.POSITIVE_INFINITY
  }

  set leaseUntil(at: number) {
    this.#more().leaseUntil = at
  }

  get renewal(): Task | undefined {
    return this.#extra?.renewal
  }

  set renewal(task: Task | undefined) {
    this.#more().renewal = task
  }

  // The controller is made on first use: most loads never look at their signal.
  get signal(): AbortSignal {
    const extra = this.#more()
    if (extra.controller === undefined) {
      extra.controller = new AbortController()
      if (extra.abortReason !== NOT_ABORTED) extra.controller.abort(extra.abortReason)
    }
    return extra.controller.signal
  }

  abort(reason: unknown): void {
    const extra = this.#more()
    if (extra.abortReason !== NOT_ABORTED) return
    extra.abortReason = reason
    extra.controller?.abort(reason)
  }

  begin(): void {
    this.owner.begin(this)
  }

  /** The limiter gave it a slot and the loader is about to be called. */
  markRunning(): void {
    this.#phase = RUNNING
  }

  /** Marks the load settled (its late result will be discarded). Returns whether it held a slot. */
  detach(): boolean {
    const wasRunning = this.#phase === RUNNING
    this.#phase = SETTLED
    return wasRunning
  }

  /** Records the value a settled load ended with, for `refresh()` callers. */
  resolve(value: T): void {
    this.#phase = SUCCEEDED
    this.#outcome = value
    this.#extra?.deferred?.resolve(value)
  }

  /** Records the error a settled load ended with, for `refresh()` callers. */
  reject(error: unknown): void {
    this.#phase = FAILED
    this.#outcome = error
    this.#extra?.deferred?.reject(error)
  }

  /** The promise `refresh()` returns, made only when someone asks for it. */
  join(): Promise<T> {
    // Fleet mode joins after the claim: a fast loader may have settled already.
    if (this.#phase === SUCCEEDED) return Promise.resolve(this.#outcome as T)
    if (this.#phase === FAILED) return Promise.reject(this.#outcome)
    const extra = this.#more()
    if (extra.deferred === undefined) {
      let resolve!: (value: T) => void
      let reject!: (error: unknown) => void
      const promise = new Promise<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      extra.deferred = { promise, resolve, reject }
    }
    return extra.deferred.promise
  }

  #more(): Extra<T> {
    this.#extra ??= {
      controller: undefined,
      abortReason: NOT_ABORTED,
      deferred: undefined,
      lease: undefined,
      leaseUntil: Number.POSITIVE_INFINITY,
      renewal: undefined,
    }
    return this.#extra
  }
}

interface Deferred<T> {
  readonly promise: Promise<T>
  readonly resolve: (value: T) => void
  readonly reject: (error: unknown) => void
}

const NOT_ABORTED: unique symbol = Symbol('not aborted')
