// Every TypeScript example in README.md and docs/ compiles against the package as users import it.
// Names an example takes from its surroundings (a user's own loader, client or path) are declared.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = `${root}.docs-snippets`

const surroundings = `declare const listPods: (o: { signal: AbortSignal }) => Promise<string[]>
declare const loadRates: () => Promise<Record<string, number>>
declare const client: import('ioredis').Redis
`

it('compiles every TypeScript example of the docs', { timeout: 60_000 }, () => {
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out)
  const docs = ['README.md', ...readdirSync(`${root}docs`).map((f) => `docs/${f}`)].filter((f) =>
    f.endsWith('.md'),
  )
  let count = 0
  for (const doc of docs) {
    const text = readFileSync(`${root}${doc}`, 'utf8')
    for (const [i, match] of [...text.matchAll(/```ts\n([\s\S]*?)```/g)].entries()) {
      const code = match[1]!
      // Test examples run in test/docs-examples.test.ts; a `{ ... }` block shows a shape, not code.
      if (code.includes("from 'vitest'") || code.trimStart().startsWith('{')) continue
      const lines = code.split('\n')
      const imports = lines.filter((l) => l.startsWith('import '))
      const body = lines.filter((l) => !l.startsWith('import '))
      const declared = code.includes('const client')
        ? surroundings.replace(/.*const client.*\n/, '')
        : surroundings
      writeFileSync(
        `${out}/${doc.replace(/\W/g, '-')}-${i}.ts`,
        `${imports.join('\n')}\n${declared}${body.join('\n')}\nexport {}\n`,
      )
      count++
    }
  }
  writeFileSync(
    `${out}/tsconfig.json`,
    JSON.stringify({
      extends: '../tsconfig.json',
      compilerOptions: { noEmit: true, lib: ['ES2022', 'ESNext.Disposable', 'DOM'] },
      include: ['*.ts'],
    }),
  )
  expect(count).toBeGreaterThanOrEqual(6)
  try {
    execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${out}/tsconfig.json`], {
      encoding: 'utf8',
    })
  } catch (error) {
    throw new Error(`a docs example does not compile:\n${(error as { stdout?: string }).stdout ?? error}`)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
