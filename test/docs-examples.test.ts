// The examples of docs/testing.md, pasted as they are: they import the package by its name, as a user
// would.
import { Resources } from 'evergreen-cache'
import { afterEach, beforeEach, expect, it, vi } from 'vitest'

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

it('serves the last good value while the backend fails', async () => {
  let calls = 0
  const resources = new Resources({ interval: '10s', jitter: 0 })
  const flags = resources.define('flags', async () => {
    if (++calls > 1) throw new Error('backend down')
    return { darkMode: true }
  })
  await resources.start({ wait: true })
  await vi.advanceTimersByTimeAsync(10_000) // the second load fails...
  expect(flags.get()).toEqual({ darkMode: true }) // ...and the value is kept
  expect(flags.peek().status).toBe('degraded')
  await resources.stop()
})

it('retries with backoff and keeps the value meanwhile', async () => {
  let fail = false
  let calls = 0
  const resources = new Resources({ interval: '1m', jitter: 0, retry: { initial: '1s', factor: 2 } })
  const keys = resources.define('keys', async () => {
    calls++
    if (fail) throw new Error('down')
    return ['k1']
  })
  await resources.start({ wait: true })

  fail = true
  await vi.advanceTimersByTimeAsync(60_000) // scheduled refresh fails
  await vi.advanceTimersByTimeAsync(1_000) // retry after 1 s fails
  await vi.advanceTimersByTimeAsync(2_000) // then after 2 s
  expect(calls).toBe(4)
  expect(keys.get()).toEqual(['k1'])
  expect(keys.peek().consecutiveFailures).toBe(3)
  await resources.stop()
})

// The examples above must stay the ones the docs show.
it('matches the examples in docs/testing.md', async () => {
  const { readFile } = await import('node:fs/promises')
  const self = await readFile(new URL(import.meta.url), 'utf8')
  const squash = (text: string) => text.replace(/\s+/g, ' ').trim()
  for (const [doc, heading] of [['../docs/testing.md', '## With fake timers (recommended)']] as const) {
    const text = await readFile(new URL(doc, import.meta.url), 'utf8')
    const block = /```ts\n([\s\S]*?)```/.exec(text.slice(text.indexOf(heading)))![1]!
    const example = block.slice(block.indexOf('\nit(') + 1)
    expect(squash(self), doc).toContain(squash(example))
  }
})
