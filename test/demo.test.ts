// The demo that `npm start` runs, as a newcomer sees it: a real child process, its output read
// as text. Each run is bounded (a few seconds) and killed if it does not end by itself.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, type ExpectStatic, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RESOURCES = ['exchange-rates', 'feature-flags', 'k8s-pods']
const STATUSES = /^(pending|ready|restored|degraded|failed|stale)$/
/** Longer than any run should take: beyond it the demo failed to end by itself. */
const HARD_LIMIT_MS = 15_000

interface Run {
  code: number | null
  stdout: string
  stderr: string
  /** Ms from the interrupt (if any) to the exit. */
  afterInterrupt: number | undefined
}

/**
 * Runs the demo; with `interruptWhen`, sends SIGINT once the output satisfies it. `watch` sees the
 * output so far at every chunk.
 */
function runDemo(
  args: string[],
  interruptWhen?: (stdout: string) => boolean,
  watch?: (stdout: string) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let interruptedAt: number | undefined
    const limit = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the demo did not end within ${HARD_LIMIT_MS} ms; output so far:\n${stdout}${stderr}`))
    }, HARD_LIMIT_MS)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      watch?.(stdout)
      if (interruptWhen !== undefined && interruptedAt === undefined && interruptWhen(stdout)) {
        interruptedAt = performance.now()
        child.kill('SIGINT')
      }
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(limit)
      const afterInterrupt = interruptedAt === undefined ? undefined : performance.now() - interruptedAt
      resolve({ code, stdout, stderr, afterInterrupt })
    })
  })
}

/** The rows of the live table, as cells (plain output: one row per resource per second). */
function tableRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => /^\s*\d+\.\d s {2}/.test(line))
    .map((line) => line.trim().split(/ {2,}/))
}

/** The comparison table's line for `name`, as cells. */
function summaryRow(expect: ExpectStatic, stdout: string, name: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`${name}  `))
  expect(line, `a summary line for ${name}`).toBeDefined()
  return (line ?? '').split(/ {2,}/)
}

const count = (cell: string | undefined) => Number((cell ?? '').replaceAll(',', ''))

/** What every run that lasted its duration prints, and how it ends. */
function expectCompleteRun(expect: ExpectStatic, run: Run): void {
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  expect(run.stdout, 'no terminal escapes when the output is not a terminal').not.toContain('\x1b')

  // The live table: a header once, then a row per resource about once a second.
  expect(run.stdout).toMatch(
    /^\s+time {2}resource\s+status\s+value\s+value age\s+loads\s+failures\s+read p99$/m,
  )
  const rows = tableRows(run.stdout)
  for (const name of RESOURCES) {
    const mine = rows.filter((cells) => cells[1] === name)
    expect(mine.length, `rows for ${name}`).toBeGreaterThanOrEqual(3)
    for (const cells of mine) {
      expect(cells).toHaveLength(8)
      expect(cells[2]).toMatch(STATUSES)
      expect(cells[4]).toMatch(/^\d+\.\d s$/) // the value's age
      expect(cells[7]).toMatch(/^(-|\d+(\.\d+)? (µs|ms|s))$/) // read p99 of the last second
    }
  }

  // The comparison: same reads for all three, evergreen fails none and answers faster at p99.
  expect(run.stdout).toMatch(/^summary after \d+\.\d s:$/m)
  expect(run.stdout).toMatch(/read p99\s+read max\s+backend calls\s+failed reads$/m)
  const evergreen = summaryRow(expect, run.stdout, 'evergreen')
  const lru = summaryRow(expect, run.stdout, 'lru-cache (stale-while-revalidate)')
  const ttl = summaryRow(expect, run.stdout, 'plain TTL cache')
  expect(count(evergreen[1])).toBeGreaterThan(1_000) // thousands of reads a second
  expect(count(lru[1])).toBe(count(evergreen[1]))
  expect(count(ttl[1])).toBe(count(evergreen[1]))
  for (const row of [evergreen, lru, ttl]) expect(count(row[4]), row[0]).toBeGreaterThan(0)
  expect(count(evergreen[5]), 'evergreen failed reads').toBe(0)
  for (const rival of ['lru-cache \\(stale-while-revalidate\\)', 'plain TTL cache']) {
    expect(run.stdout).toMatch(
      new RegExp(
        `^evergreen: reads [\\d,.]+× (faster|slower) at p99, 0 failed reads \\(vs [\\d,]+\\), ` +
          `[\\d,]+ backend calls \\(vs [\\d,]+\\) than ${rival}\\.$`,
        'm',
      ),
    )
  }
  // A plain TTL cache makes a read wait for each refresh: evergreen is faster than it at p99.
  expect(run.stdout).toMatch(/^evergreen: reads [\d,.]+× faster at p99.* than plain TTL cache\.$/m)
}

describe.concurrent('the demo (npm start)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-demo-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  // Two runs in a row, each bounded by HARD_LIMIT_MS.
  it('prints the live table and the comparison, exits 0, and its next run starts from the snapshot', {
    timeout: 2 * HARD_LIMIT_MS,
  }, async ({ expect }) => {
    const snapshot = join(dir, 'nested', 'snapshot.json')

    const first = await runDemo(['--duration', '3', '--snapshot', snapshot])
    expectCompleteRun(expect, first)
    expect(first.stdout).toContain(`no snapshot yet at ${snapshot}: a cold start, first values in`)
    expect(first.stdout).toContain(`snapshot saved to ${snapshot}: the next run starts warm`)
    expect(existsSync(snapshot)).toBe(true)

    const second = await runDemo(['--duration', '3', '--snapshot', snapshot])
    expectCompleteRun(expect, second)
    expect(second.stdout).toMatch(/^restored 3 values from the snapshot, age \d+\.\d( s|-\d+\.\d s)$/m)
    // Before the first load of this run has answered, every resource serves its restored value.
    const atStart = tableRows(second.stdout).filter((cells) => cells[0] === '0.0 s')
    expect(atStart.map((cells) => [cells[1], cells[2]])).toEqual(RESOURCES.map((name) => [name, 'restored']))
    for (const cells of atStart) expect(cells[3]).not.toBe('-')
  })

  it('stops on Ctrl-C with the summary, at once, and exit code 0', async ({ expect }) => {
    const run = await runDemo(['--duration', '60', '--no-store'], (stdout) =>
      tableRows(stdout).some((cells) => cells[0] === '1.0 s'),
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('snapshot off (--no-store): a cold start')
    expect(run.stdout).toMatch(/^summary after \d+\.\d s \(stopped by Ctrl-C\):$/m)
    expect(run.stdout).toMatch(/^evergreen: reads .* backend calls \(vs [\d,]+\) than plain TTL cache\.$/m)
    expect(run.stdout).not.toContain('snapshot saved')
    // Reads still waiting on the TTL cache finish within its 1 s timeout; then it exits.
    expect(run.afterInterrupt).toBeLessThan(3_000)
  })

  it('refuses a bad option with the usage and exit code 2', async ({ expect }) => {
    const run = await runDemo(['--duration', 'soon'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--duration must be a positive number; received "soon"')
    expect(run.stderr).toContain('usage: npm start -- [options]')
    expect(run.stdout).toBe('')
  })
})

// Run after the others, not beside them: four demo processes at once are slow to start on a busy machine.
describe('the demo as a service (npm start -- --serve)', () => {
  it('serves the inspector page, the probes, the status JSON and /metrics with --serve', async ({
    expect,
  }) => {
    let checks: Promise<Record<string, [number, string, string]>> | undefined
    const run = await runDemo(
      ['--serve', '--port', '0', '--duration', '4', '--no-store'],
      undefined,
      (stdout) => {
        const url = /^serving the inspector at (http:\/\/127\.0\.0\.1:\d+)\/ /m.exec(stdout)?.[1]
        if (url === undefined || checks !== undefined || !stdout.includes('first values in')) return
        const get = async (path: string): Promise<[number, string, string]> => {
          const response = await fetch(url + path)
          return [response.status, response.headers.get('content-type') ?? '', await response.text()]
        }
        checks = Promise.all(
          ['/live', '/status', '/metrics', '/'].map(async (p) => [p, await get(p)] as const),
        ).then(Object.fromEntries)
      },
    )
    expectCompleteRun(expect, run)
    const served = await checks
    expect(served, 'the URL was printed and answered').toBeDefined()
    if (served === undefined) return
    expect(served['/live']?.[0]).toBe(200)
    const status = JSON.parse(served['/status']?.[2] ?? '{}')
    expect(status.resources.map((r: { name: string }) => r.name).sort()).toEqual(RESOURCES)
    expect(served['/metrics']?.[1]).toMatch(/^text\/plain/)
    expect(served['/metrics']?.[2]).toMatch(/^evergreen_loads_total\{resource="exchange-rates"\} \d+$/m)
    expect(served['/']?.[1]).toBe('text/html; charset=utf-8')
  })
})
