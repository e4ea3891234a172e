import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
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

/**
 * Builds dist/ with tsup when dist/file.js is missing or older than a source file, for tests that
 * run the built package in child processes. Throws when the build leaves no usable dist/file.js.
 */
export function ensureBuilt(): void {
  const target = join(root, 'dist', 'file.js')
  const fresh = () => existsSync(target) && statSync(target).mtimeMs >= newestSource(join(root, 'src'))
  if (fresh()) return
  const result = spawnSync('npx', ['tsup'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  // The type declarations may fail on unrelated work in progress; the JavaScript is what we run.
  if (!existsSync(target) || !existsSync(join(root, 'dist', 'index.js'))) {
    throw new Error(`npx tsup did not build dist/file.js:\n${result.stdout}\n${result.stderr}`)
  }
}
