import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

/** The package root. */
export const root = fileURLToPath(new URL('..', import.meta.url))

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

/** The entries the package exports; tests run them in child processes or import them by name. */
const ENTRIES = ['index', 'file', 'redis', 'testing'].map((entry) => join(root, 'dist', `${entry}.js`))

/**
 * Builds dist/ with tsup when an entry is missing or older than a source file (`npm test` builds
 * first; this is for a test file run alone). Test files run in parallel: a lock directory keeps two
 * builds from cleaning dist/ under each other. Throws when the build leaves an entry missing.
 */
export async function ensureBuilt(): Promise<void> {
  const fresh = () => {
    const sources = newestSource(join(root, 'src'))
    return ENTRIES.every((entry) => existsSync(entry) && statSync(entry).mtimeMs >= sources)
  }
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
    const missing = ENTRIES.filter((entry) => !existsSync(entry))
    if (missing.length > 0) {
      throw new Error(`npx tsup did not build ${missing.join(', ')}:\n${result.stdout}\n${result.stderr}`)
    }
  } finally {
    rmSync(LOCK, { force: true, recursive: true })
  }
}
