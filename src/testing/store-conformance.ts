import assert from 'node:assert/strict'
import type { Store } from '../stores/store.js'

/**
 * The two functions of a test framework the suite needs. vitest's, jest's and `node:test`'s
 * `describe` and `it` all fit.
 */
export interface ConformanceFramework {
  describe(name: string, body: () => void): unknown
  it(name: string, test: () => Promise<void>): unknown
}

/** Makes a fresh, empty store for one test. */
export type StoreFactory = () => Store | Promise<Store>

/** Values of every JSON shape, which every store must give back as they were saved. */
const JSON_SHAPES: readonly [string, unknown][] = [
  ['a nested object', { a: { b: { c: { d: [1, { e: 'deep' }] } } }, empty: {} }],
  ['an array of mixed values', [1, 'two', null, true, false, [], {}, [[3]], { four: 4 }]],
  ['an empty array', []],
  ['an empty string', ''],
  ['unicode strings', { text: 'héllo wörld ✓ 日本語 ‏עברית‏ 🚀👩‍👩‍👧 \u2028\u2029 "quotes" \\ \n\t\u0000' }],
  [
    'numbers',
    [
      0,
      1,
      -1,
      0.1,
      -2.5e-7,
      1e21,
      5e-324,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      1.7976931348623157e308,
    ],
  ],
  ['booleans and null', { yes: true, no: false, nothing: null }],
  ['a bare number', 42],
  ['a bare string', 'plain'],
  ['null', null],
]

/**
 * Registers the tests every {@link Store} must pass: missing entries, round-trips, version fencing,
 * delete, list, close (and reopen, for a store that has it), concurrent writers and JSON-shaped
 * values. Run it in your store's test file:
 *
 * ```ts
 * import { describe, it } from 'vitest'
 * import { storeConformance } from 'evergreen-cache/testing'
 * storeConformance('my store', () => myStore(), { describe, it })
 * ```
 *
 * `createStore` is called once per test and must return an empty store; the suite closes it.
 */
export function storeConformance(
  name: string,
  createStore: StoreFactory,
  framework: ConformanceFramework,
): void {
  const { describe, it } = framework

  /** Runs `body` with a fresh store, closed afterwards whatever happens. */
  function withStore(body: (store: Store) => Promise<void>): () => Promise<void> {
    return async () => {
      const store = await createStore()
      try {
        await body(store)
      } finally {
        await store.close()
      }
    }
  }

  describe(`${name} (store conformance)`, () => {
    it(
      'gives undefined for a name that has no entry',
      withStore(async (store) => {
        assert.equal(await store.get('missing'), undefined)
        assert.deepEqual(await store.list(), [])
      }),
    )

    it(
      "keeps an entry's schemaVersion, and gives none back for an entry written without one",
      withStore(async (store) => {
        await store.set('a', { value: 'v2 shape', version: 1, loadedAt: 1_700_000_000_000, schemaVersion: 2 })
        assert.equal((await store.get('a'))?.schemaVersion, 2)
        await store.set('a', { value: 'no schema', version: 2, loadedAt: 1_700_000_000_000 })
        assert.equal((await store.get('a'))?.schemaVersion, undefined)
        await store.set('b', { value: 'zero', version: 1, loadedAt: 1_700_000_000_000, schemaVersion: 0 })
        assert.equal((await store.get('b'))?.schemaVersion, 0)
      }),
    )

    it(
      'gives back the value, version and loadedAt that were set',
      withStore(async (store) => {
        assert.equal(
          await store.set('pods', { value: ['web-1', 'web-2'], version: 1, loadedAt: 1_700_000_000_000 }),
          true,
        )
        assert.deepEqual(await store.get('pods'), {
          value: ['web-1', 'web-2'],
          version: 1,
          loadedAt: 1_700_000_000_000,
        })
      }),
    )

    it(
      'replaces an entry with a newer version',
      withStore(async (store) => {
        await store.set('pods', { value: 'old', version: 1, loadedAt: 1_000 })
        assert.equal(await store.set('pods', { value: 'new', version: 2, loadedAt: 2_000 }), true)
        assert.deepEqual(await store.get('pods'), { value: 'new', version: 2, loadedAt: 2_000 })
      }),
    )

    it(
      'refuses an older version and keeps the stored entry',
      withStore(async (store) => {
        await store.set('pods', { value: 'newer', version: 5, loadedAt: 5_000 })
        assert.equal(await store.set('pods', { value: 'older', version: 4, loadedAt: 9_000 }), false)
        assert.deepEqual(await store.get('pods'), { value: 'newer', version: 5, loadedAt: 5_000 })
      }),
    )

    it(
      'refuses an equal version and keeps the stored entry',
      withStore(async (store) => {
        await store.set('pods', { value: 'first', version: 3, loadedAt: 3_000 })
        assert.equal(await store.set('pods', { value: 'second', version: 3, loadedAt: 4_000 }), false)
        assert.deepEqual(await store.get('pods'), { value: 'first', version: 3, loadedAt: 3_000 })
      }),
    )

    it(
      'fences each name on its own',
      withStore(async (store) => {
        await store.set('a', { value: 'a9', version: 9, loadedAt: 1 })
        assert.equal(await store.set('b', { value: 'b1', version: 1, loadedAt: 2 }), true)
        assert.deepEqual(await store.get('a'), { value: 'a9', version: 9, loadedAt: 1 })
        assert.deepEqual(await store.get('b'), { value: 'b1', version: 1, loadedAt: 2 })
      }),
    )

    it(
      'forgets a deleted name, and then accepts any version for it',
      withStore(async (store) => {
        await store.set('pods', { value: 'v7', version: 7, loadedAt: 7 })
        await store.set('keys', { value: 'k', version: 1, loadedAt: 1 })
        await store.delete('pods')
        assert.equal(await store.get('pods'), undefined)
        assert.deepEqual(await store.list(), ['keys'])
        assert.equal(await store.set('pods', { value: 'v1', version: 1, loadedAt: 8 }), true)
        assert.deepEqual(await store.get('pods'), { value: 'v1', version: 1, loadedAt: 8 })
      }),
    )

    it(
      'treats deleting an unknown name as no error',
      withStore(async (store) => {
        await store.delete('never-set')
        assert.deepEqual(await store.list(), [])
      }),
    )

    it(
      'lists every name that has an entry, once',
      withStore(async (store) => {
        await store.set('a', { value: 1, version: 1, loadedAt: 1 })
        await store.set('b', { value: 2, version: 1, loadedAt: 1 })
        await store.set('c', { value: 3, version: 1, loadedAt: 1 })
        await store.set('a', { value: 4, version: 2, loadedAt: 2 })
        assert.deepEqual((await store.list()).sort(), ['a', 'b', 'c'])
      }),
    )

    it(
      'keeps names that look like object internals or paths apart',
      withStore(async (store) => {
        const names = ['__proto__', 'constructor', 'toString', 'a/b', '../x', 'with space', 'ünï-☃']
        for (const [i, n] of names.entries()) {
          assert.equal(await store.set(n, { value: { i }, version: 1, loadedAt: i }), true, n)
        }
        for (const [i, n] of names.entries()) {
          assert.deepEqual(await store.get(n), { value: { i }, version: 1, loadedAt: i }, n)
        }
        assert.deepEqual((await store.list()).sort(), [...names].sort())
      }),
    )

    it(
      'keeps the highest version when many writers race',
      withStore(async (store) => {
        const versions = Array.from({ length: 20 }, (_, i) => i + 1)
        // A fixed shuffle: the highest version arrives neither first nor last.
        const order = [7, 19, 3, 12, 1, 20, 5, 16, 9, 14, 2, 18, 11, 6, 15, 4, 10, 17, 8, 13]
        assert.deepEqual(
          [...order].sort((a, b) => a - b),
          versions,
        )
        const results = await Promise.all(
          order.map((version) => store.set('race', { value: `v${version}`, version, loadedAt: version })),
        )
        assert.equal(results[order.indexOf(20)], true, 'the highest version is written')
        assert.deepEqual(await store.get('race'), { value: 'v20', version: 20, loadedAt: 20 })
        // Later, a stale writer still loses.
        assert.equal(await store.set('race', { value: 'late', version: 19, loadedAt: 99 }), false)
      }),
    )

    it(
      'keeps the highest version when writers race on many names at once',
      withStore(async (store) => {
        const writes: Promise<boolean>[] = []
        for (let version = 1; version <= 5; version++) {
          for (const n of ['x', 'y', 'z']) {
            const v = n === 'y' ? 6 - version : version
            writes.push(store.set(n, { value: `${n}${v}`, version: v, loadedAt: v }))
          }
        }
        await Promise.all(writes)
        for (const n of ['x', 'y', 'z']) {
          assert.deepEqual(await store.get(n), { value: `${n}5`, version: 5, loadedAt: 5 }, n)
        }
      }),
    )

    for (const [shape, value] of JSON_SHAPES) {
      it(
        `gives back ${shape} as it was saved`,
        withStore(async (store) => {
          await store.set('shape', { value, version: 1, loadedAt: 1 })
          const entry = await store.get('shape')
          assert.ok(entry !== undefined)
          assert.deepStrictEqual(entry.value, value)
        }),
      )
    }

    it('can be closed twice, also at once', async () => {
      const store = await createStore()
      await store.set('pods', { value: 1, version: 1, loadedAt: 1 })
      await Promise.all([store.close(), store.close()])
      await store.close()
    })

    it('takes writes again after close() and reopen(), keeping its entries (if it can reopen)', async () => {
      const store = await createStore()
      try {
        if (store.reopen === undefined) return
        await store.set('pods', { value: 1, version: 1, loadedAt: 1 })
        await store.close()
        store.reopen()
        assert.deepEqual(await store.get('pods'), { value: 1, version: 1, loadedAt: 1 })
        assert.equal(await store.set('pods', { value: 1, version: 1, loadedAt: 1 }), false)
        assert.equal(await store.set('pods', { value: 2, version: 2, loadedAt: 2 }), true)
        assert.deepEqual(await store.get('pods'), { value: 2, version: 2, loadedAt: 2 })
        store.reopen() // open already: nothing changes
        assert.deepEqual(await store.list(), ['pods'])
      } finally {
        await store.close()
      }
    })

    it('can be closed without ever being used', async () => {
      const store = await createStore()
      await store.close()
      await store.close()
    })
  })
}
