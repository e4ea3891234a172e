import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

/** The package root. */
export const root = fileURLToPath(new URL('../..', import.meta.url))

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** Held while one test file builds, so that parallel test files never run tsup at once. */
const LOCK = join(tmpdir(), 'evergreen-test-build.lock')

/**
 * Builds dist/ with tsup when dist/file.js is missing or older than a source file, for tests that
 * run the built package in child processes. Throws when the build leaves no usable dist/file.js.
 */
export async function ensureBuilt(): Promise<void> {
  const target = join(root, 'dist', 'file.js')
  const fresh = () => existsSync(target) && statSync(target).mtimeMs >= newestSource(join(root, 'src'))
  if (fresh()) return
  for (;;) {
    try {
      mkdirSync(LOCK)
      break
    } catch {
      // Another test file is building; a lock older than the build timeout was abandoned.
      const held = statSync(LOCK, { throwIfNoEntry: false })
      if (held !== undefined && Date.now() - held.mtimeMs > 150_000)
        rmSync(LOCK, { force: true, recursive: true })
      await delay(200)
      if (fresh()) return
    }
  }
  try {
    if (fresh()) return
    const result = spawnSync('npx', ['tsup'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
    // The type declarations may fail on unrelated work in progress; the JavaScript is what we run.
    if (!existsSync(target) || !existsSync(join(root, 'dist', 'index.js'))) {
      throw new Error(`npx tsup did not build dist/file.js:\n${result.stdout}\n${result.stderr}`)
    }
  } finally {
    rmSync(LOCK, { force: true, recursive: true })
  }
}
