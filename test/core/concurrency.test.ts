import { describe, expect, it, vi } from 'vitest'
import { registry, useFakeTime } from './helpers.js'

useFakeTime()

describe('concurrency', () => {
  it.each([1, 3, 8])(
    'runs at most %i loads at once; the rest queue and begin in order of definition',
    async (limit) => {
      const resources = registry({ concurrency: limit, interval: '1h' })
      let inFlight = 0
      let most = 0
      const began: string[] = []
      for (let i = 0; i < 20; i++) {
        const name = `r${String(i).padStart(2, '0')}`
        resources.define(name, async () => {
          began.push(name)
          most = Math.max(most, ++inFlight)
          await new Promise((resolve) => setTimeout(resolve, 100 + ((i * 37) % 50)))
          inFlight--
          return i
        })
      }
      void resources.start()
      expect(inFlight).toBe(limit)
      await vi.advanceTimersByTimeAsync(20 * 150)
      expect(most).toBe(limit)
      expect(began).toEqual([...began].sort())
      expect(began).toHaveLength(20)
      expect(resources.status().resources.every((r) => r.status === 'ready')).toBe(true)
    },
  )

  it('counts queued loads as loading, and a queued refresh() joins its place in the queue', async () => {
    const resources = registry({ concurrency: 1, interval: '1h' })
    const loaders = { a: vi.fn(), b: vi.fn() }
    resources.define('a', () => {
      loaders.a()
      return new Promise((resolve) => setTimeout(() => resolve('a'), 1_000))
    })
    const b = resources.define('b', () => {
      loaders.b()
      return 'b'
    })
    void resources.start()
    expect(b.peek().loading).toBe(true)
    const refreshed = b.refresh()
    await vi.advanceTimersByTimeAsync(999)
    expect(loaders.b).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    await expect(refreshed).resolves.toBe('b')
    expect(loaders.b).toHaveBeenCalledTimes(1)
  })

  it('Infinity lets every load run at once', async () => {
    const resources = registry({ concurrency: Number.POSITIVE_INFINITY })
    let inFlight = 0
    for (let i = 0; i < 500; i++) {
      resources.define(`r${i}`, () => {
        inFlight++
        return new Promise(() => {})
      })
    }
    void resources.start()
    expect(inFlight).toBe(500)
  })
})
