// Real processes, real time: a script that defines resources and never calls stop() still exits.
// Each child imports the built package (dist/), as a user's program would.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt } from '../build.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

interface Run {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

/** Runs a fixture with node; a child still alive after 10 s is killed (and the test fails on its time). */
function run(name: string, ...args: string[]): Promise<Run> {
  const started = performance.now()
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fixture(name), ...args],
      { cwd: root, timeout: 10_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({ code, stdout, stderr, ms: performance.now() - started })
      },
    )
  })
}

const lines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown)

beforeAll(() => ensureBuilt(), 120_000)

describe('a process that never calls stop()', () => {
  it.each([
    [
      'after its first loads, printing no warning',
      'exits-after-start.mjs',
      [{ sync: 'E_SYNC', failed: ['failing'] }, { values: [1, 2, 3] }],
    ],
    ['while a loader hangs forever', 'exits-with-hung-loader.mjs', [{ started: true }]],
    ['while its refreshes can never catch up', 'exits-when-overloaded.mjs', [{ refreshed: true }]],
  ])('exits by itself %s', async (_, fixture, printed) => {
    const result = await run(fixture)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(lines(result.stdout)).toEqual(printed)
    expect(result.ms).toBeLessThan(5_000)
  })

  it('waits for start({ wait: true }) up to the timeout of a hung loader, then exits', async () => {
    const result = await run('exits-with-hung-loader.mjs', 'wait')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(lines(result.stdout)).toEqual([{ sync: 'E_SYNC', failed: ['E_LOAD_TIMEOUT'] }])
    expect(result.ms).toBeLessThan(5_000)
  })
})
