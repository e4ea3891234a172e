// What `npm pack` would publish: the built code, its types and source maps, and the documents a user
// reads; never tests, sources, benchmarks, examples or configuration.
//
// No source maps are shipped. The built code is plain, unminified JavaScript with the sources' names,
// so a stack trace is readable without them; the maps would double the unpacked size, and tsup's
// CommonJS maps name an intermediate file by the build machine's absolute path.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, root } from './build.js'

interface PackFile {
  path: string
  size: number
}

let files: string[] = []

function npm(args: string[]): string {
  return execFileSync('npm', args, { cwd: root, encoding: 'utf8', timeout: 60_000 })
}

/** Every file an `exports` condition names, as a path relative to the package root. */
function exportTargets(node: unknown): string[] {
  if (typeof node === 'string') return [node.replace(/^\.\//, '')]
  if (node === null || typeof node !== 'object') return []
  return Object.values(node).flatMap(exportTargets)
}

describe('the packed package', () => {
  beforeAll(async () => {
    await ensureBuilt()
    const [pack] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'])) as [
      { name: string; files: PackFile[] },
    ]
    expect(pack.name).toBe('evergreen-cache')
    files = pack.files.map((file) => file.path).sort()
  }, 180_000)

  it('holds only the build, its types, the docs, and the package files', () => {
    const allowed = [
      /^package\.json$/,
      /^README\.md$/,
      /^LICENSE$/,
      /^CHANGELOG\.md$/,
      /^docs\/[\w-]+\.md$/,
      /^dist\/[\w-]+\.(js|cjs|d\.ts|d\.cts)$/,
    ]
    expect(files.filter((path) => !allowed.some((pattern) => pattern.test(path)))).toEqual([])
  })

  it('holds no tests, sources, benchmarks, examples or tool configuration', () => {
    const unwanted =
      /(^|\/)(test|src|bench|examples|node_modules|\.ci)\/|\.test(-d)?\.|tsconfig|vitest|tsup|biome/
    expect(files.filter((path) => unwanted.test(path))).toEqual([])
  })

  it('holds every file the exports map and the legacy fields name', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as Record<string, unknown>
    const named = [...exportTargets(pkg.exports), ...exportTargets([pkg.main, pkg.module, pkg.types])]
    expect(named.length).toBeGreaterThanOrEqual(17)
    expect(named.filter((path) => !files.includes(path))).toEqual([])
  })

  it('holds the README, LICENSE, CHANGELOG and the docs pages', () => {
    expect(files).toEqual(
      expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md', 'docs/migrating.md']),
    )
  })

  it('ships no source maps, and no built file points at one', () => {
    expect(files.filter((path) => path.endsWith('.map'))).toEqual([])
    const built = files.filter((path) => /\.(c?js|d\.c?ts)$/.test(path))
    const pointing = built.filter((path) =>
      readFileSync(`${root}${path}`, 'utf8').includes('sourceMappingURL'),
    )
    expect(pointing).toEqual([])
  })

  it('names no path of the machine it was built on', () => {
    const leaking = files.filter((path) => readFileSync(`${root}${path}`, 'utf8').includes(root))
    expect(leaking).toEqual([])
  })
})
