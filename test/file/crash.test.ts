import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, root } from '../build.js'
import { readSnapshot, tempDir } from './helpers.js'

const WRITER = join(root, 'test', 'file', 'fixtures', 'crash-writer.mjs')
const KILLS = 200
const LANES = 4

interface Run {
  /** The last version the child acknowledged (its set() calls resolved). */
  acked: number
}

/** Starts the writer, waits until it is ready, lets it write for 5-60 ms more, and SIGKILLs it. */
function runAndKill(path: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [WRITER, path], { stdio: ['ignore', 'pipe', 'pipe'] })
    const run: Run = { acked: 0 }
    let out = ''
    let err = ''
    let killed = false
    const guard = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk
      const lines = out.split('\n')
      out = lines.pop() ?? ''
      for (const line of lines) {
        if (line === 'ready') {
          if (!killed) {
            killed = true
            setTimeout(() => child.kill('SIGKILL'), 5 + Math.random() * 55)
          }
        } else run.acked = Number(line)
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(guard)
      if (signal === 'SIGKILL' && killed) resolve(run)
      else reject(new Error(`writer ended with ${signal ?? code} before it was killed:\n${err}`))
    })
  })
}

/** Asserts the file is one complete snapshot: every resource there, all from the same write. */
function checkSnapshot(path: string, acked: number): number {
  const entries = readSnapshot(path)
  expect(entries.size).toBe(20)
  const version = entries.get('r0')?.version ?? -1
  for (const [name, entry] of entries) {
    expect(entry.version, name).toBe(version)
    const value = JSON.parse(entry.data)
    expect(value.name).toBe(name)
    expect(value.version).toBe(version)
    expect(value.payload).toHaveLength(40)
    expect(value.payload[39]).toBe(`${version}:39`)
  }
  // Acknowledged writes survive; at most the one in flight is newer.
  expect(version).toBeGreaterThanOrEqual(acked)
  expect(version).toBeLessThanOrEqual(acked + 1)
  return version
}

describe('fileStore under SIGKILL', () => {
  beforeAll(() => ensureBuilt(), 120_000)

  it(`leaves a complete snapshot, the previous or the new one, after each of ${KILLS} kills at random moments`, async () => {
    const lane = async () => {
      const path = join(tempDir(), 'snapshot.json')
      let last = 0
      for (let i = 0; i < KILLS / LANES; i++) {
        const { acked } = await runAndKill(path)
        expect(existsSync(path)).toBe(true)
        const version = checkSnapshot(path, acked)
        // Each run starts from what the previous one left, so versions only grow.
        expect(version).toBeGreaterThan(last)
        last = version
      }
      // Temp files of killed writers are removed by the next run: only the last one's may remain.
      expect(readdirSync(join(path, '..')).filter((n) => n.includes('.tmp-')).length).toBeLessThanOrEqual(1)
      return last
    }
    const versions = await Promise.all(Array.from({ length: LANES }, lane))
    // The kills did land while snapshots were being written, not before the first.
    for (const v of versions) expect(v).toBeGreaterThan(KILLS / LANES)
  }, 90_000)
})
