import { ListenerError } from './errors.js'

/** Called when the value changes, with the new value and the previous one (`undefined` the first time). */
export type Subscriber<T> = (value: T, previous: T | undefined) => void

interface Waiter<T> {
  resolve(value: T): void
  reject(error: unknown): void
}

/**
 * Who waits on one resource: its subscribers and the callers of `ready()`. Made on first use: most
 * resources have neither.
 */
export class Watchers<T> {
  #subscribers: Set<Subscriber<T>> | undefined = undefined
  #ready: Waiter<T>[] | undefined = undefined

  subscribe(listener: Subscriber<T>): () => void {
    this.#subscribers ??= new Set()
    // Wrapped so the same function can be subscribed twice and unsubscribed independently.
    const entry: Subscriber<T> = (value, previous) => listener(value, previous)
    this.#subscribers.add(entry)
    return () => {
      this.#subscribers?.delete(entry)
    }
  }

  /** Forgets the subscribers: the resource was removed. */
  unsubscribeAll(): void {
    this.#subscribers = undefined
  }

  ready(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#ready ??= []
      this.#ready.push({ resolve, reject })
    })
  }

  /** The value changed: calls every subscriber (a throwing one is reported) and resolves `ready()`. */
  changed(name: string, value: T, previous: T | undefined, report: (error: ListenerError) => void): void {
    const subscribers = this.#subscribers
    if (subscribers !== undefined && subscribers.size > 0) {
      // Those present when the change began: one that subscribes again meanwhile waits for the next.
      for (const subscriber of Array.from(subscribers)) {
        try {
          subscriber(value, previous)
        } catch (error) {
          report(new ListenerError('subscribe', error, name))
        }
      }
    }
    const waiters = this.#ready
    if (waiters !== undefined) {
      this.#ready = undefined
      for (const w of waiters) w.resolve(value)
    }
  }

  /** Rejects every pending `ready()` with `error`. */
  rejectReady(error: () => unknown): void {
    const waiters = this.#ready
    this.#ready = undefined
    if (waiters !== undefined) for (const w of waiters) w.reject(error())
  }
}
