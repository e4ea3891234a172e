// Fleet mode inside one process: registries on Redis stores (src, not the build), for what is
// cheaper to check without child processes.
import { describe, expect, it } from 'vitest'
import { LoadError } from '../../src/core/errors.js'
import { Resources } from '../../src/index.js'
import { freshPrefix, subscribed, timed, until, useRedis } from './helpers.js'

const redis = useRedis()

/** A registry in fleet mode on a store of its own (own connections), stopped at the end. */
function replica(prefix: string) {
  const store = redis.store({ prefix })
  return new Resources({ interval: '1h', store })
}

describe('fleet mode in one process', () => {
  it.each([
    ['a synchronous loader', () => ({ at: Date.now() })],
    ['an async loader that resolves at once', async () => ({ at: Date.now() })],
  ])('settles refresh() whatever the loader: %s', async (_, loader) => {
    const resources = replica(freshPrefix())
    const pods = resources.define('pods', loader)
    await resources.start({ wait: true })
    try {
      for (let i = 0; i < 3; i++) {
        const outcome = await timed(
          Promise.race([pods.refresh(), new Promise((r) => setTimeout(r, 2_000, 'hung'))]),
        )
        expect(outcome.value).not.toBe('hung')
        expect(outcome.value).toEqual({ at: expect.any(Number) })
      }
    } finally {
      await resources.stop()
    }
  })

  it("gets another replica's value a third of the lease after its load even when it hears no announcement", async () => {
    const prefix = freshPrefix()
    const leaseTtl = 900
    const holder = new Resources({ interval: '1h', jitter: 0, store: redis.store({ prefix, leaseTtl }) })
    // Every announcement is longer than one byte, so this replica ignores them all.
    const deaf = new Resources({
      interval: '1h',
      jitter: 0,
      store: redis.store({ prefix, leaseTtl, maxMessageBytes: 1 }),
    })
    let loadedAt = 0
    holder.define('pods', async () => {
      await new Promise((r) => setTimeout(r, 600))
      loadedAt = Date.now()
      return 'shared'
    })
    let deafCalls = 0
    deaf.define('pods', () => {
      deafCalls++
      return 'own'
    })
    try {
      void holder.start()
      await new Promise((r) => setTimeout(r, 100)) // the holder has the lease
      const ready = await timed(
        Promise.race([deaf.start({ wait: true }), new Promise((r) => setTimeout(r, 5_000))]),
      )
      expect(deaf.get('pods')).toBe('shared')
      expect(deafCalls).toBe(0)
      // An interval is an hour: it checked again a third of the lease after finding it taken.
      expect(Date.now() - loadedAt).toBeLessThan(leaseTtl / 3 + 250)
      expect(ready.ms).toBeLessThan(600 + leaseTtl / 3 + 250)
    } finally {
      await Promise.all([holder.stop(), deaf.stop()])
    }
  })

  it('rejects refresh() with a LoadError when the loader throws at once', async () => {
    const resources = replica(freshPrefix())
    let fail = false
    const pods = resources.define('pods', () => {
      if (fail) throw new Error('backend down')
      return 1
    })
    await resources.start({ wait: true })
    fail = true
    try {
      const outcome = await Promise.race([
        pods.refresh().then(
          () => 'resolved',
          (error: unknown) => error,
        ),
        new Promise((r) => setTimeout(r, 2_000, 'hung')),
      ])
      expect(outcome).toBeInstanceOf(LoadError)
    } finally {
      await resources.stop()
    }
  })

  it('goes on sharing after stop() and start() on a store from a URL: it saves, and hears the others', async () => {
    const prefix = freshPrefix()
    const errors: unknown[] = []
    const readerStore = redis.store({ prefix, via: 'url' })
    const reader = new Resources({
      interval: '1h',
      store: readerStore,
      onError: (e) => errors.push(e),
    })
    const writer = replica(prefix)
    let n = 0
    const writerPods = writer.define('pods', () => `v${++n}`)
    const pods = reader.define('pods', () => 'own')
    await writer.start({ wait: true })
    await reader.start({ wait: true })
    await reader.stop()
    await reader.start()
    try {
      await subscribed(readerStore, redis.client(), prefix)
      const before = pods.peek().version
      await writerPods.refresh()
      // An interval is an hour: only the announcement, heard on the new subscription, brings it.
      await until(() => pods.peek().version > before, 5_000, 'the restarted replica hears the new version')
      expect(pods.get()).toBe(`v${n}`)
      // Its own connection is back too: a forced refresh loads and saves.
      expect(await pods.refresh()).toBe('own')
      const shared = redis.store({ prefix })
      await until(
        async () => (await shared.get('pods'))?.value === 'own',
        5_000,
        "the restarted replica's write reaches the store",
      )
      expect(errors).toEqual([])
    } finally {
      await Promise.all([reader.stop(), writer.stop()])
    }
  })

  it('restores the shared value at define (warm start) and shows it as coming from the store', async () => {
    const prefix = freshPrefix()
    const first = replica(prefix)
    first.define('pods', () => ['web-1'])
    await first.start({ wait: true })
    await first.stop()
    const second = replica(prefix)
    let calls = 0
    const pods = second.define('pods', () => {
      calls++
      return ['web-2']
    })
    await pods.ready()
    expect(pods.peek()).toMatchObject({ source: 'store', value: ['web-1'] })
    // The shared value is fresh (interval 1h): starting does not load it again.
    await second.start({ wait: true })
    expect(calls).toBe(0)
    await second.stop()
  })
})
