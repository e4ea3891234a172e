import type { Store } from '../stores/store.js'

// The shape checks of the `store` option and of its fleet coordinator.

/** Whether `value` has the methods of a {@link Store}. */
export function isStore(value: unknown): value is Store {
  if (typeof value !== 'object' || value === null) return false
  const s = value as Record<string, unknown>
  return (
    ['get', 'set', 'delete', 'list', 'close'].every((m) => typeof s[m] === 'function') &&
    ['attach', 'reopen'].every((m) => s[m] === undefined || typeof s[m] === 'function')
  )
}

/** Whether `value` is a fleet coordinator: head, acquire and watch, and a positive finite leaseTtl. */
export function isFleet(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const f = value as Record<string, unknown> & { leaseTtl?: unknown }
  const ttl = f.leaseTtl
  return (
    ['head', 'acquire', 'watch'].every((m) => typeof f[m] === 'function') &&
    typeof ttl === 'number' &&
    Number.isFinite(ttl) &&
    ttl > 0
  )
}
