// The operations subpaths as a user imports them from the built package (npm test builds first).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, root } from '../build.js'

const SUBPATHS = {
  'evergreen-cache/http': ['healthHandler'],
  'evergreen-cache/prometheus': ['LOAD_DURATION_BUCKETS', 'prometheusMetrics'],
  'evergreen-cache/otel': ['LOAD_DURATION_BUCKETS', 'RESOURCE_ATTRIBUTE', 'otelMetrics', 'otelTracing'],
  'evergreen-cache/diagnostics': [
    'channelNames',
    'fleetChannel',
    'loadChannel',
    'storeChannel',
    'traceLoads',
    'traceStore',
  ],
}

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 15_000 }).trim()
}

describe('the operations subpaths of the built package', () => {
  beforeAll(() => ensureBuilt(), 120_000)

  it.each(Object.entries(SUBPATHS))(
    '%s resolves from ESM and CommonJS with its exports',
    (subpath, names) => {
      const esm = node([
        '--input-type=module',
        '-e',
        `const m = await import('${subpath}'); console.log(Object.keys(m).sort().join())`,
      ])
      const cjs = node(['-e', `console.log(Object.keys(require('${subpath}')).sort().join())`])
      expect(esm).toBe(names.join())
      expect(cjs).toBe(names.join())
    },
  )

  it('leaves the core free of prom-client, OpenTelemetry and node: imports', () => {
    const core = readFileSync(`${root}dist/index.js`, 'utf8')
    const chunks = [...core.matchAll(/from "\.\/(chunk-[\w-]+\.js)"/g)].map((m) =>
      readFileSync(`${root}dist/${m[1]}`, 'utf8'),
    )
    for (const text of [core, ...chunks]) {
      expect(text).not.toMatch(/prom-client|@opentelemetry|diagnostics_channel|from ['"]node:/)
    }
  })

  it('keeps prom-client and @opentelemetry/api optional peers', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'))
    for (const peer of ['prom-client', '@opentelemetry/api']) {
      expect(pkg.peerDependencies[peer], peer).toBeDefined()
      expect(pkg.peerDependenciesMeta[peer], peer).toEqual({ optional: true })
      expect(pkg.dependencies?.[peer], peer).toBeUndefined()
    }
  })
})
