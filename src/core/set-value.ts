import { StoppedError } from './errors.js'
import type { ResourceRecord } from './record.js'
import { SUPERSEDED } from './record.js'

/** What `set()` needs of the engine beyond its record: scheduling the next refresh. */
export interface SetTarget<T> extends ResourceRecord<T> {
  schedule(base: number): void
}

/**
 * Takes `value` from outside: served at once, versioned, compared, saved and (fleet mode) announced
 * as a load's would be; the next refresh is a full interval away; a load in flight is superseded
 * (its result is discarded when it settles). Throws `StoppedError` once stopped or removed.
 */
export function setValue<T>(target: SetTarget<T>, value: T): void {
  if (target.closed) throw new StoppedError(target.name, target.closedWhy)
  const previous = target.state.value
  const equals = target.settings.equals as (a: T, b: T) => boolean
  const changed = target.apply({ type: 'set', value, at: target.time.now(), equals })
  if (target.inflight !== undefined) target.flags |= SUPERSEDED
  else if (target.refreshScheduled) target.schedule(target.settings.interval)
  if (changed) target.changed(previous, 'set')
  const persistence = target.persistence
  if (persistence !== undefined) {
    const fleet = target.fleet
    if (fleet === undefined) persistence.save()
    else persistence.track(fleet.push(() => persistence.save()))
  }
  target.settleFirst()
}
