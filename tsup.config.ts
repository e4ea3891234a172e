import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    file: 'src/file/index.ts',
    testing: 'src/testing/index.ts',
    redis: 'src/redis/index.ts',
    http: 'src/http/index.ts',
    prometheus: 'src/prometheus/index.ts',
    otel: 'src/otel/index.ts',
    diagnostics: 'src/diagnostics/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // No source maps: the built code is unminified and readable, and tsup's CommonJS maps carry the
  // build machine's absolute path (see test/package-contents.test.ts).
  sourcemap: false,
  target: 'node20',
  splitting: true,
})
