// One writer per file across processes: a second process is refused while the first holds the
// file's lock, and takes it over when the first was killed (at once on this host) or stopped
// refreshing it (after lockTimeout). Real processes, because a second process and a kill are the point.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, root } from '../build.js'
import { readSnapshot, tempDir } from './helpers.js'

const FIXTURES = join(root, 'test', 'file', 'fixtures')
const LOCK_TIMEOUT = 1_000
const children: ChildProcess[] = []

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

/** Starts a holder of `path`; resolves once its first write is on disk. */
function holder(path: string) {
  const child = spawn(process.execPath, [join(FIXTURES, 'lock-holder.mjs'), path, String(LOCK_TIMEOUT)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  children.push(child)
  const lines: string[] = []
  let buffer = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop() ?? ''
    lines.push(...parts)
  })
  const next = async (count: number) => {
    const deadline = Date.now() + 15_000
    while (lines.length < count) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`holder said only ${lines}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return lines[count - 1]
  }
  return {
    child,
    ready: next(1),
    async write(version: number): Promise<string | undefined> {
      const count = lines.length + 1
      child.stdin?.write(`write ${version}\n`)
      return next(count)
    },
  }
}

function contender(path: string) {
  const result = spawnSync(
    process.execPath,
    [join(FIXTURES, 'lock-contender.mjs'), path, String(LOCK_TIMEOUT)],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  )
  if (result.status !== 0)
    throw new Error(`contender exited with ${result.status ?? result.signal}:\n${result.stderr}`)
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '')
}

describe('two processes on one snapshot file', () => {
  beforeAll(() => ensureBuilt(), 120_000)

  it("refuses the second while the first runs, without losing either one's entries", async () => {
    const path = join(tempDir(), 'snapshot.json')
    const first = holder(path)
    expect(await first.ready).toBe('ready')

    const second = contender(path)
    // It serves what the file holds (a warm start), but saves nothing while the first holds the lock.
    expect(second.read).toBe('holder@1')
    expect(second.set).toMatchObject({ name: 'FileLockError', code: 'E_STORE', path })
    expect(second.set.message).toMatch(/held by another process \(pid \d+ on host /)
    expect(second.reports).toEqual([
      {
        name: 'FileLockError',
        message: expect.stringMatching(/is held by another process .* lock .* is refreshed/),
      },
    ])
    expect(second.closed).toMatch(
      new RegExp(`could not save the last changes to ${path}: .*held by another process`),
    )
    // The first goes on saving, and nothing of the second reached the file.
    expect(await first.write(2)).toBe('wrote 2')
    expect([...readSnapshot(path).keys()]).toEqual(['holder'])
    expect(readSnapshot(path).get('holder')?.version).toBe(2)
    first.child.stdin?.end()
  }, 60_000)

  it('takes over at once, with a report, the lock of a process that was killed', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const first = holder(path)
    await first.ready
    expect(await first.write(2)).toBe('wrote 2')
    first.child.kill('SIGKILL')
    await new Promise((resolve) => first.child.once('exit', resolve))

    const next = contender(path)
    expect(next.read).toBe('holder@2')
    expect(next.set).toEqual({ written: true })
    expect(next.waited).toBeLessThan(LOCK_TIMEOUT)
    expect(next.reports).toEqual([
      { name: 'StoreError', message: expect.stringMatching(/took over the lock of .* that process is gone/) },
    ])
    expect(readSnapshot(path).get('holder')?.version).toBe(2)
    expect(readSnapshot(path).has('contender')).toBe(true)
  }, 60_000)

  it('takes over the lock of a process that stopped refreshing it after lockTimeout; that process then writes nothing', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const first = holder(path)
    await first.ready
    first.child.kill('SIGSTOP')
    try {
      const next = contender(path)
      expect(next.set).toEqual({ written: true })
      expect(next.waited).toBeGreaterThanOrEqual(LOCK_TIMEOUT)
      expect(next.reports).toEqual([
        {
          name: 'StoreError',
          message: expect.stringMatching(/took over the lock of .* not refreshed for \d+ ms/),
        },
      ])
    } finally {
      first.child.kill('SIGCONT')
    }
    // Woken, the first finds its lock gone (the contender released it when it closed, or holds it):
    // it either takes the free lock again and saves, merging with the contender's entries, or is refused.
    const answer = await first.write(2)
    const saved = readSnapshot(path)
    expect(saved.has('contender')).toBe(true)
    if (answer === 'wrote 2') expect(saved.get('holder')?.version).toBe(2)
    else expect(answer).toMatch(/^refused FileLockError/)
    first.child.stdin?.end()
  }, 60_000)
})
