// Small promise helpers used across the library, each written once.

/** Calls `fn`; a synchronous throw becomes a rejection, so callers handle one kind of failure. */
export function callAsync<R>(fn: () => Promise<R>): Promise<R> {
  try {
    return fn()
  } catch (error) {
    return Promise.reject(error)
  }
}

const done = (): void => {}

/** Resolves once every one of `promises` has resolved (rejects with the first rejection), with no value. */
export function allDone(promises: readonly Promise<unknown>[]): Promise<void> {
  return Promise.all(promises).then(done)
}

/** `a` and `b` together: `b` alone when there is no `a`. */
export function both(a: Promise<void> | undefined, b: Promise<void>): Promise<void> {
  return a === undefined ? b : allDone([a, b])
}
