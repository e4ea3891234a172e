// The packed tarball installed into an empty project, as a user would get it from the registry: it
// installs without the network (the package has no runtime dependencies and its one peer, ioredis,
// is optional), and the package and each subpath load with `import` and with `require`, and type-check
// for an ESM and a CommonJS TypeScript consumer.
// Bounded: each child process has a timeout, and the temporary project is removed afterwards.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, root } from './build.js'

const SUBPATHS = ['evergreen-cache/file', 'evergreen-cache/testing', 'evergreen-cache/redis']

let project = ''

function run(file: string, args: string[], timeout = 30_000): string {
  return execFileSync(file, args, { cwd: project, encoding: 'utf8', timeout }).trim()
}

/** Defines a resource, starts, reads it, stops, and prints what it saw with the subpaths' exports. */
const probe = (load: (specifier: string) => string) => `
  const { Resources, EvergreenError, errorCodes } = ${load('evergreen-cache')}
  const subpaths = {}
  for (const name of ${JSON.stringify(SUBPATHS)}) subpaths[name] = Object.keys(${load('name')}).sort()
  const resources = new Resources({ interval: '1s' })
  const answer = resources.define('answer', () => 42)
  resources.start({ wait: true }).then(async () => {
    const value = answer.get()
    await resources.stop()
    console.log(JSON.stringify({ value, codes: Object.keys(errorCodes).length > 0, base: typeof EvergreenError, subpaths }))
  })
`

describe('the packed tarball in an empty project', () => {
  beforeAll(async () => {
    await ensureBuilt()
    project = mkdtempSync(join(tmpdir(), 'evergreen-consumer-'))
    const tarball = execFileSync(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', project],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    )
    const [{ filename }] = JSON.parse(tarball) as [{ filename: string }]
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
    run(
      'npm',
      ['install', join(project, filename), '--no-audit', '--no-fund', '--offline', '--no-package-lock'],
      90_000,
    )
  }, 180_000)

  afterAll(() => {
    if (project !== '') rmSync(project, { recursive: true, force: true })
  })

  it('installs the package alone: no runtime dependency, the optional peer left out', () => {
    const installed = readdirSync(join(project, 'node_modules')).filter((name) => !name.startsWith('.'))
    expect(installed).toEqual(['evergreen-cache'])
  })

  const expected = {
    value: 42,
    codes: true,
    base: 'function',
    subpaths: {
      'evergreen-cache/file': expect.arrayContaining(['fileStore']),
      'evergreen-cache/testing': expect.arrayContaining(['storeConformance']),
      'evergreen-cache/redis': expect.arrayContaining(['redisStore']),
    },
  }

  it('loads the package and its subpaths with import', () => {
    writeFileSync(
      join(project, 'probe.mjs'),
      probe((specifier) => `await import(${specifier === 'name' ? 'name' : `'${specifier}'`})`),
    )
    expect(JSON.parse(run(process.execPath, ['probe.mjs']))).toEqual(expected)
  })

  it('loads the package and its subpaths with require', () => {
    writeFileSync(
      join(project, 'probe.cjs'),
      probe((specifier) => `require(${specifier === 'name' ? 'name' : `'${specifier}'`})`),
    )
    expect(JSON.parse(run(process.execPath, ['probe.cjs']))).toEqual(expected)
  })

  // The redis subpath's types name ioredis's, so a consumer of that subpath installs ioredis (as the
  // docs say); the exports map and types of every entry are also checked by `npm run check:package`.
  it('type-checks for an ESM and a CommonJS TypeScript consumer', { timeout: 90_000 }, () => {
    const code = `
      import { Resources, type Resource } from 'evergreen-cache'
      import { fileStore } from 'evergreen-cache/file'
      import { storeConformance } from 'evergreen-cache/testing'
      const resources = new Resources({ interval: '10s' })
      const answer: Resource<number> = resources.define('answer', () => 42)
      const n: number = answer.get()
      const byName: unknown = resources.get('answer')
      export { n, byName, fileStore, storeConformance }
    `
    writeFileSync(join(project, 'consumer.mts'), code)
    writeFileSync(join(project, 'consumer.cts'), code)
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          types: [],
          lib: ['ES2022', 'ESNext.Disposable', 'DOM'],
          skipLibCheck: false,
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    )
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    try {
      run(process.execPath, [tsc, '-p', 'tsconfig.json'], 60_000)
    } catch (error) {
      throw new Error(`the consumer does not type-check:\n${(error as { stdout?: string }).stdout ?? error}`)
    }
  })
})
