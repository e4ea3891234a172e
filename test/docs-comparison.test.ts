// docs/comparison.md and docs/migrating.md state how lru-cache behaves after a failed refresh. These
// run those statements against the lru-cache installed here, and check that the page names its
// version, so that an upgrade that changes the behaviour fails here rather than leaving the page wrong.
import { readFileSync } from 'node:fs'
import { LRUCache } from 'lru-cache'
import { describe, expect, it } from 'vitest'
import { root } from './build.js'

type FetchOptions = Pick<
  LRUCache.OptionsBase<string, string, unknown>,
  'allowStale' | 'allowStaleOnFetchRejection' | 'noDeleteOnFetchRejection'
>

/**
 * A value fetched once, then expired; the next fetch fails in the background. Resolves with what
 * the two reads after the expiry return (a value, or `rejects`). Time is lru-cache's own clock seam.
 */
async function afterAFailedRefresh(options: FetchOptions): Promise<string[]> {
  let now = 1_000_000 // not 0: lru-cache reads a start time of 0 as "no TTL"
  let calls = 0
  const cache = new LRUCache<string, string>({
    max: 10,
    ttl: 1_000,
    perf: { now: () => now },
    ...options,
    fetchMethod: async () => {
      if (++calls > 1) throw new Error('backend down')
      return 'v1'
    },
  })
  const read = () => cache.fetch('k').then(String, () => 'rejects')
  await read()
  now += 2_000 // expired
  const first = await read()
  await new Promise((resolve) => setImmediate(resolve)) // the background fetch settles
  return [first, await read()]
}

describe('lru-cache, as docs/comparison.md describes it', () => {
  it('is the version the page names', () => {
    const { version } = JSON.parse(readFileSync(`${root}node_modules/lru-cache/package.json`, 'utf8')) as {
      version: string
    }
    expect(readFileSync(`${root}docs/comparison.md`, 'utf8')).toContain(`**lru-cache** ${version}`)
  })

  it.each<[string, FetchOptions, string[]]>([
    [
      'allowStale alone serves the stale value once, then the entry is gone',
      { allowStale: true },
      ['v1', 'rejects'],
    ],
    [
      'allowStale with allowStaleOnFetchRejection keeps it',
      { allowStale: true, allowStaleOnFetchRejection: true },
      ['v1', 'v1'],
    ],
    [
      'allowStale with noDeleteOnFetchRejection keeps it',
      { allowStale: true, noDeleteOnFetchRejection: true },
      ['v1', 'v1'],
    ],
    [
      'allowStaleOnFetchRejection alone waits for the fetch, then serves the stale value',
      { allowStaleOnFetchRejection: true },
      ['v1', 'v1'],
    ],
  ])('%s', async (_, options, expected) => {
    expect(await afterAFailedRefresh(options)).toEqual(expected)
  })
})
