import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/index.js'
import type { Store, StoreEntry } from '../../src/stores/store.js'
import { storeConformance } from '../../src/testing/index.js'

/** Runs the suite against `create` outside the runner, and returns the names of the tests that failed. */
async function failures(create: () => Store): Promise<string[]> {
  const tests: [string, () => Promise<void>][] = []
  let prefix = ''
  storeConformance('candidate', create, {
    describe: (name, body) => {
      prefix = name
      body()
    },
    it: (name, test) => {
      tests.push([`${prefix} > ${name}`, test])
    },
  })
  const failed: string[] = []
  for (const [name, test] of tests) {
    try {
      await test()
    } catch {
      failed.push(name.replace('candidate (store conformance) > ', ''))
    }
  }
  return failed
}

/** A memory store with one behaviour broken. */
function broken(change: (store: Store, entries: Map<string, StoreEntry>) => Partial<Store>): () => Store {
  return () => {
    const entries = new Map<string, StoreEntry>()
    const store: Store = {
      get: async (name) => entries.get(name),
      set: async (name, entry) => {
        const current = entries.get(name)
        if (current !== undefined && current.version >= entry.version) return false
        entries.set(name, entry)
        return true
      },
      delete: async (name) => {
        entries.delete(name)
      },
      list: async () => [...entries.keys()],
      close: async () => {},
    }
    return Object.assign(store, change(store, entries))
  }
}

describe('storeConformance', () => {
  it('passes the reference memory store', async () => {
    expect(await failures(memoryStore)).toEqual([])
  })

  it('catches a store without fencing', async () => {
    const failed = await failures(
      broken((_, entries) => ({
        set: async (name, entry) => {
          entries.set(name, entry)
          return true
        },
      })),
    )
    expect(failed).toEqual(
      expect.arrayContaining([
        'refuses an older version and keeps the stored entry',
        'refuses an equal version and keeps the stored entry',
        'keeps the highest version when many writers race',
      ]),
    )
  })

  it('catches a store that lets an equal version through', async () => {
    const failed = await failures(
      broken((_, entries) => ({
        set: async (name, entry) => {
          const current = entries.get(name)
          if (current !== undefined && current.version > entry.version) return false
          entries.set(name, entry)
          return true
        },
      })),
    )
    expect(failed).toEqual(['refuses an equal version and keeps the stored entry'])
  })

  it('catches a store that keys entries in a plain object', async () => {
    const failed = await failures(() => {
      const entries: Record<string, StoreEntry> = {}
      return {
        get: async (name) => (Object.hasOwn(entries, name) ? entries[name] : undefined),
        set: async (name, entry) => {
          const current = Object.hasOwn(entries, name) ? entries[name] : undefined
          if (current !== undefined && current.version >= entry.version) return false
          entries[name] = entry
          return true
        },
        delete: async (name) => {
          delete entries[name]
        },
        list: async () => Object.keys(entries),
        close: async () => {},
      }
    })
    expect(failed).toEqual(['keeps names that look like object internals or paths apart'])
  })

  it('catches a store that ignores delete, loses numbers or fails a second close', async () => {
    expect(await failures(broken(() => ({ delete: async () => {} })))).toEqual([
      'forgets a deleted name, and then accepts any version for it',
    ])
    const rounding = broken((store) => {
      const set = store.set.bind(store)
      return {
        set: (name, entry) =>
          set(name, {
            ...entry,
            value: JSON.parse(
              JSON.stringify(entry.value, (_, v) => (typeof v === 'number' ? Math.fround(v) : v)),
            ),
          }),
      }
    })
    expect(await failures(rounding)).toContain('gives back numbers as it was saved')
    const closeOnce = broken(() => {
      let closed = false
      return {
        close: async () => {
          if (closed) throw new Error('already closed')
          closed = true
        },
      }
    })
    expect(await failures(closeOnce)).toEqual([
      'can be closed twice, also at once',
      'can be closed without ever being used',
    ])
  })
})
