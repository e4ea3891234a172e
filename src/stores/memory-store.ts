import type { Store, StoreEntry } from './store.js'

/**
 * A store in this process's memory: for tests, and as the reference the conformance suite is
 * written against. Entries are kept as given (no copy, no serialisation).
 */
export function memoryStore(): Store {
  const entries = new Map<string, StoreEntry>()
  return {
    async get(name) {
      return entries.get(name)
    },
    async set(name, entry) {
      const current = entries.get(name)
      if (current !== undefined && current.version >= entry.version) return false
      const { value, version, loadedAt, schemaVersion } = entry
      entries.set(
        name,
        schemaVersion === undefined
          ? { value, version, loadedAt }
          : { value, version, loadedAt, schemaVersion },
      )
      return true
    },
    async delete(name) {
      entries.delete(name)
    },
    async list() {
      return [...entries.keys()]
    },
    async close() {},
  }
}
