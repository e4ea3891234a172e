import type { LimiterJob } from '../scheduling/limiter.js'
import type { Task } from '../scheduling/scheduler.js'
import type { Lease } from '../stores/store.js'
import type { Resource } from './resource.js'

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

/** One attempt to load a resource; the loader's context reads from it. */
export class Load<T> implements LimiterJob, LoadContext<T> {
  running = false
  settled = false
  startedAt = 0
  #controller: AbortController | undefined
  #abortReason: unknown = NOT_ABORTED
  /** The loader's own promise, chained so it never rejects: lets `stop()` wait for it. */
  done: Promise<void> | undefined
  /** Fleet mode: the lease under which this load runs, and the task that renews it. */
  lease: Lease | undefined
  renewal: Task | undefined
  /** What `refresh()` callers wait on; made only when someone calls it. */
  #deferred: Deferred<T> | undefined
  /** How the load ended, for a `join()` that comes after. */
  #outcome: { readonly value: T } | { readonly error: unknown } | undefined

  constructor(
    readonly owner: Resource<T>,
    readonly previous: T | undefined,
    readonly attempt: number,
  ) {}

  get name(): string {
    return this.owner.name
  }

  get cancelled(): boolean {
    return this.settled
  }

  // The controller is made on first use: most loads never look at their signal.
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#abortReason !== NOT_ABORTED) this.#controller.abort(this.#abortReason)
    }
    return this.#controller.signal
  }

  abort(reason: unknown): void {
    if (this.#abortReason !== NOT_ABORTED) return
    this.#abortReason = reason
    this.#controller?.abort(reason)
  }

  begin(): void {
    this.owner._begin(this)
  }

  /** The promise `refresh()` returns, made only when someone asks for it. */
  join(): Promise<T> {
    if (this.#deferred === undefined) {
      // Fleet mode joins after the claim: a fast loader may have settled already.
      const outcome = this.#outcome
      if (outcome !== undefined)
        return 'error' in outcome ? Promise.reject(outcome.error) : Promise.resolve(outcome.value)
      let resolve!: (value: T) => void
      let reject!: (error: unknown) => void
      const promise = new Promise<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      this.#deferred = { promise, resolve, reject }
    }
    return this.#deferred.promise
  }

  resolve(value: T): void {
    this.#outcome ??= { value }
    this.#deferred?.resolve(value)
  }

  reject(error: unknown): void {
    this.#outcome ??= { error }
    this.#deferred?.reject(error)
  }
}

interface Deferred<T> {
  readonly promise: Promise<T>
  readonly resolve: (value: T) => void
  readonly reject: (error: unknown) => void
}

const NOT_ABORTED: unique symbol = Symbol('not aborted')
