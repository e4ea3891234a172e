import type { Clock } from '../scheduling/clock.js'
import type { Store } from '../stores/store.js'
import { allDone } from './async.js'
import { type EvergreenError, StoreError } from './errors.js'
import { holdStore, releaseStore } from './store-holders.js'

/**
 * The stores a registry has used, in one place: each attached once, held while the registry is
 * started (a store shared by several registries is closed by the stop of the last; see
 * store-holders.ts), and, for a fleet store, the announcements heard while started.
 */
export class RegistryStores {
  /** Every store used, with how to stop hearing its fleet's announcements while they are heard. */
  readonly #stores = new Map<Store, (() => void) | undefined>()
  readonly #registry: object
  readonly #clock: Clock
  readonly #report: (error: EvergreenError, resource: string | undefined, operation?: string) => void
  readonly #announced: (name: string, version: number) => void

  constructor(
    registry: object,
    clock: Clock,
    report: (error: EvergreenError, resource: string | undefined, operation?: string) => void,
    announced: (name: string, version: number) => void,
  ) {
    this.#registry = registry
    this.#clock = clock
    this.#report = report
    this.#announced = announced
  }

  get size(): number {
    return this.#stores.size
  }

  /** Introduces `store` once, so it can report background problems; held at once when `started`. */
  attach(store: Store, started: boolean): void {
    if (this.#stores.has(store)) return
    this.#stores.set(store, undefined)
    try {
      // Attached while started (a resource defined with a store of its own): it runs on it from now.
      if (started) holdStore(store, this.#registry)
      this.#watch(store)
      store.attach?.({
        reportError: (error, resource) => {
          const wrapped =
            error instanceof StoreError ? error : new StoreError(String(error), { resource, cause: error })
          this.#report(wrapped, resource)
        },
        clock: this.#clock,
      })
    } catch (error) {
      this.#report(new StoreError('a store failed to attach', { cause: error }), undefined)
    }
  }

  /** The registry starts: it runs on every store again (reopened if a stop closed it). */
  holdAll(): void {
    for (const store of this.#stores.keys()) {
      try {
        holdStore(store, this.#registry)
        this.#watch(store)
      } catch (error) {
        this.#report(new StoreError('a store failed to reopen', { cause: error }), undefined)
      }
    }
  }

  /** The registry stopped: stops hearing announcements and closes the stores no started registry runs on. */
  async release(): Promise<void> {
    for (const [store, unwatch] of this.#stores) {
      if (unwatch !== undefined) {
        unwatch()
        this.#stores.set(store, undefined)
      }
    }
    const closing = [...this.#stores.keys()].filter((store) => releaseStore(store, this.#registry))
    await allDone(
      closing.map((store) =>
        store.close().then(undefined, (error: unknown) =>
          // A failed final flush is reported every time, with what the store said (the file
          // store's errors name the path): it is the last chance to learn that data was not saved.
          this.#report(StoreError.wrap(error, 'could not close a store'), undefined, 'close'),
        ),
      ),
    )
  }

  /** Fleet mode: another replica's announcement of a new version makes the resource fetch it. */
  #watch(store: Store): void {
    const fleet = store.fleet
    if (fleet === undefined || this.#stores.get(store) !== undefined) return
    this.#stores.set(store, fleet.watch(this.#announced))
  }
}
