/**
 * The refresher a user writes by hand, as a baseline: one `setTimeout` per resource, re-armed after
 * each load settles, each resource with its own entry and its own loader. No timeouts, retries,
 * events or stores: what it costs is the least a timer per resource can cost.
 */
export interface HandWritten<V> {
  /** Resolves once every resource has its first value. */
  readonly ready: Promise<void>
  get(name: string): V | undefined
  stop(): void
}

export function handWritten<V>(
  names: readonly string[],
  loaderOf: (i: number) => () => Promise<V>,
  interval: number,
): HandWritten<V> {
  interface Entry {
    value: V | undefined
    timer: ReturnType<typeof setTimeout> | undefined
  }
  const entries = new Map<string, Entry>()
  let stopped = false
  let missing = names.length
  let allLoaded: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    allLoaded = resolve
  })
  for (let i = 0; i < names.length; i++) {
    const load = loaderOf(i)
    const entry: Entry = { value: undefined, timer: undefined }
    const tick = (): void => {
      entry.timer = undefined
      load().then(
        (value) => {
          if (entry.value === undefined && --missing === 0) allLoaded()
          entry.value = value
          if (!stopped) entry.timer = setTimeout(tick, interval).unref()
        },
        () => {
          if (!stopped) entry.timer = setTimeout(tick, interval).unref()
        },
      )
    }
    entries.set(names[i]!, entry)
    tick()
  }
  if (names.length === 0) allLoaded()
  return {
    ready,
    get: (name) => entries.get(name)?.value,
    stop: () => {
      stopped = true
      for (const entry of entries.values()) clearTimeout(entry.timer)
    },
  }
}
