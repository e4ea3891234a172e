import { type ErrorJSON, EvergreenError, type Resources, type Unsubscribe } from '../index.js'

/** Load durations kept per resource, for the page's sparkline. */
export const DURATIONS_KEPT = 24
/** Errors kept per resource, the newest last. */
export const ERRORS_KEPT = 3

/** One recent error of a resource. */
export interface RecentError extends ErrorJSON {
  /** When it happened (ISO). */
  readonly at: string
}

interface Track {
  /** Ring of recent load durations in ms; `count` of them are valid, the newest before `next`. */
  readonly durations: Float64Array
  next: number
  count: number
  errors: RecentError[] | undefined
}

/**
 * What the page shows beyond `status()`: recent load durations and errors per resource, heard from
 * the registry's events from the moment the handler was made. At most `limit` resources are tracked.
 */
export class LoadHistory {
  readonly #tracks = new Map<string, Track>()
  readonly #limit: number
  readonly #unsubscribe: Unsubscribe[]

  constructor(resources: Resources, limit: number) {
    this.#limit = limit
    this.#unsubscribe = [
      resources.on('load', ({ name, duration }) => this.#duration(name, duration)),
      resources.on('error', ({ name, error }) => this.#error(name, error)),
    ]
  }

  /** Recent load durations of `name` in whole ms, oldest first. */
  durations(name: string): number[] {
    const track = this.#tracks.get(name)
    if (track === undefined) return []
    const out: number[] = []
    for (let i = track.count; i > 0; i--) {
      const at = (track.next - i + DURATIONS_KEPT) % DURATIONS_KEPT
      out.push(Math.round(track.durations[at] ?? 0))
    }
    return out
  }

  /** Recent errors of `name`, oldest first. */
  errors(name: string): readonly RecentError[] {
    return this.#tracks.get(name)?.errors ?? []
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
    this.#tracks.clear()
  }

  #track(name: string): Track | undefined {
    let track = this.#tracks.get(name)
    if (track === undefined && this.#tracks.size < this.#limit) {
      track = { durations: new Float64Array(DURATIONS_KEPT), next: 0, count: 0, errors: undefined }
      this.#tracks.set(name, track)
    }
    return track
  }

  #duration(name: string, ms: number): void {
    const track = this.#track(name)
    if (track === undefined) return
    track.durations[track.next] = ms
    track.next = (track.next + 1) % DURATIONS_KEPT
    if (track.count < DURATIONS_KEPT) track.count++
  }

  #error(name: string, error: EvergreenError): void {
    const track = this.#track(name)
    if (track === undefined) return
    const json = error instanceof EvergreenError ? error.toJSON() : undefined
    if (json === undefined) return
    track.errors ??= []
    track.errors.push({ ...json, at: new Date().toISOString() })
    if (track.errors.length > ERRORS_KEPT) track.errors.shift()
  }
}
