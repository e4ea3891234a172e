// The layout's rules, checked on the sources and on the published declarations: small files, an
// import graph without cycles (type-only imports included), and nothing internal in the `.d.ts`.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, root } from './build.js'

const SRC = join(root, 'src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** The relative modules `file` imports or re-exports, as source paths; `import type` and `import()` types included. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found = new Set<string>()
  const patterns = [
    /\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ]
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const spec = match[1] as string
      if (spec.startsWith('.')) found.add(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
    }
  }
  return [...found]
}

/** Every cycle found by a depth-first walk, each as the list of files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (file: string) => {
    state.set(file, 'open')
    path.push(file)
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next])
      else if (state.get(next) === undefined) visit(next)
    }
    path.pop()
    state.set(file, 'done')
  }
  for (const file of graph.keys()) if (state.get(file) === undefined) visit(file)
  return found
}

describe('the source layout', () => {
  it('has no file in src/ over 400 lines', () => {
    const long = sources(SRC)
      .map((file) => ({ file: relative(root, file), lines: readFileSync(file, 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > 400)
    expect(long).toEqual([])
  })

  it('has no import cycle in src/, type-only imports included', () => {
    const graph = new Map(sources(SRC).map((file) => [file, importsOf(file)]))
    const found = cycles(graph).map((cycle) => cycle.map((file) => relative(SRC, file)).join(' -> '))
    expect(found).toEqual([])
  })

  it('finds a cycle when there is one (the check itself)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ])
    expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']])
  })
})

describe('the published declarations', () => {
  const DIST = join(root, 'dist')
  const declarations = () => readdirSync(DIST).filter((name) => name.endsWith('.d.ts'))

  beforeAll(async () => {
    await ensureBuilt()
  }, 180_000)

  /** Names a declaration file exports (under their exported name, and their local one). */
  function exported(text: string): { local: Set<string>; public: Set<string> } {
    const local = new Set<string>()
    const publicNames = new Set<string>()
    for (const match of text.matchAll(/^export (?:type )?\{([^}]*)\}/gm)) {
      for (const part of (match[1] as string).split(',')) {
        const [name, alias] = part
          .replace(/\btype\s+/, '')
          .trim()
          .split(/\s+as\s+/)
        if (name === undefined || name === '') continue
        local.add(name)
        publicNames.add(alias ?? name)
      }
    }
    return { local, public: publicNames }
  }

  it('declare only what the package exports: no internal class, type or function', () => {
    const files = declarations()
    expect(files).toContain('index.d.ts')
    // The entries' public names, and the local names chunks give them.
    // Every entry of the exports map, so a new subpath is checked as soon as it is published.
    const pkg = JSON.parse(readFileSync(join(DIST, '..', 'package.json'), 'utf8')) as {
      exports: Record<string, { import?: { types?: string } } | string>
    }
    const entries = Object.values(pkg.exports)
      .map((target) => (typeof target === 'string' ? undefined : target.import?.types))
      .filter((types): types is string => types !== undefined)
      .map((types) => types.replace(/^\.\/dist\//, ''))
    const publicNames = new Set<string>()
    for (const entry of entries) {
      const text = readFileSync(join(DIST, entry), 'utf8')
      for (const name of exported(text).public) publicNames.add(name)
    }
    const internal: string[] = []
    for (const file of files) {
      const text = readFileSync(join(DIST, file), 'utf8')
      const { local } = exported(text)
      for (const match of text.matchAll(
        /^(?:declare )?(?:abstract )?(?:class|interface|type|function|const|enum) ([A-Za-z_$][\w$]*)/gm,
      )) {
        const name = match[1] as string
        // A chunk's names are public when an entry re-exports them (under the chunk's alias).
        if (!publicNames.has(name) || !local.has(name)) internal.push(`${file}: ${name}`)
      }
    }
    expect(internal).toEqual([])
  })

  it('have no underscore-prefixed or @internal member', () => {
    const found: string[] = []
    for (const file of declarations()) {
      const lines = readFileSync(join(DIST, file), 'utf8').split('\n')
      lines.forEach((line, i) => {
        if (
          /^\s+(?:readonly |static |get |set |private |protected )*_\w*\??[(:<]/.test(line) ||
          /@internal/.test(line)
        )
          found.push(`${file}:${i + 1}: ${line.trim()}`)
      })
    }
    expect(found).toEqual([])
  })
})
