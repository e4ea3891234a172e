import type { StoreError } from '../core/errors.js'
import { type Clock, systemClock } from '../scheduling/clock.js'
import type { StoreContext } from '../stores/store.js'

/** Unreported problems kept for the first registry that attaches; older ones are dropped. */
const MAX_UNREPORTED = 32
/** Longest resource name quoted whole in a message. */
const MAX_NAME = 120

/** A resource name for a message: quoted, and shortened when long. */
export function quoteName(name: string): string {
  const text = JSON.stringify(name.length > MAX_NAME ? name.slice(0, MAX_NAME) : name)
  return name.length > MAX_NAME ? `${text.slice(0, -1)}…" (${name.length} characters)` : text
}

/** The message of whatever was thrown, without throwing. */
export function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error)
  } catch {
    return 'an error that cannot be described'
  }
}

interface Problem {
  readonly error: StoreError
  readonly resource: string | undefined
}

/**
 * The registries a store reports to, and the clock it runs on: the clock of the first registry that
 * attached, else the system clock. Problems found before any registry attached wait for the first.
 */
export class Reporter {
  readonly #contexts: StoreContext[] = []
  readonly #unreported: Problem[] = []
  #clock: Clock | undefined

  get clock(): Clock {
    return this.#clock ?? systemClock
  }

  attach(context: StoreContext): void {
    this.#contexts.push(context)
    this.#clock ??= context.clock
    for (const problem of this.#unreported.splice(0)) this.#tell(context, problem)
  }

  report(error: StoreError, resource?: string): void {
    const problem = { error, resource }
    if (this.#contexts.length === 0) {
      if (this.#unreported.push(problem) > MAX_UNREPORTED) this.#unreported.shift()
      return
    }
    for (const context of this.#contexts) this.#tell(context, problem)
  }

  #tell(context: StoreContext, problem: Problem): void {
    try {
      context.reportError(problem.error, problem.resource)
    } catch {
      // A reporter that throws has nowhere left to report to.
    }
  }
}
