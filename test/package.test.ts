// Imports the built package through its `exports` map, as a user would (npm test builds first).
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt } from './build.js'

const root = fileURLToPath(new URL('..', import.meta.url))

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 15_000 }).trim()
}

const probe = `
  const { Resources, EvergreenError, errorCodes } = m
  const r = new Resources({ interval: '1s' })
  const a = r.define('a', () => 42)
  r.start({ wait: true }).then(async () => {
    console.log(JSON.stringify({ value: a.get(), codes: Object.keys(errorCodes).length, base: typeof EvergreenError }))
    await r.stop()
  })
`

describe('the built package', () => {
  beforeAll(() => ensureBuilt(), 120_000)

  it('is importable from ESM by its name', () => {
    const out = node(['--input-type=module', '-e', `import * as m from 'evergreen-cache'; ${probe}`])
    expect(JSON.parse(out)).toEqual({ value: 42, codes: 13, base: 'function' })
  })

  it('is requirable from CommonJS by its name', () => {
    const out = node(['-e', `const m = require('evergreen-cache'); ${probe}`])
    expect(JSON.parse(out)).toEqual({ value: 42, codes: 13, base: 'function' })
  })

  it.each(['evergreen-cache/file', 'evergreen-cache/testing'])(
    'resolves the subpath %s from ESM and CommonJS',
    (subpath) => {
      const esm = node([
        '--input-type=module',
        '-e',
        `const m = await import('${subpath}'); console.log(typeof m)`,
      ])
      const cjs = node(['-e', `const m = require('${subpath}'); console.log(typeof m)`])
      expect([esm, cjs]).toEqual(['object', 'object'])
    },
  )

  it('ships type declarations for every entry', () => {
    for (const entry of ['index', 'file', 'testing']) {
      expect(existsSync(`${root}dist/${entry}.d.ts`), entry).toBe(true)
      expect(existsSync(`${root}dist/${entry}.d.cts`), entry).toBe(true)
    }
  })

  it('keeps the core free of node: imports and runtime dependencies', async () => {
    const { readFile } = await import('node:fs/promises')
    const core = await readFile(`${root}dist/index.js`, 'utf8')
    expect(core).not.toMatch(/from ['"]node:|require\(['"]node:/)
    const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as Record<string, unknown>
    expect(pkg.dependencies ?? {}).toEqual({})
  })
})
