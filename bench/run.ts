/**
 * Runs the benchmark suite: every `bench/*.bench.ts`, each in its own child process (so heaps,
 * JIT state and event loops do not interfere), and prints one markdown report.
 *
 *   npm run bench                        # every benchmark, report on stdout
 *   npm run bench -- --only read         # one benchmark (read.bench.ts)
 *   npm run bench -- --write             # also update docs/benchmarks.md
 *
 * A benchmark module exports `async function run(): Promise<string>` returning its markdown
 * section. Children run as `node --expose-gc --import tsx bench/run.ts --section <file>` and send
 * the section back over IPC; their own output goes to stderr, so stdout holds only the report.
 */
import { fork } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(BENCH_DIR, '..')
const DOC = join(ROOT, 'docs', 'benchmarks.md')
const SUFFIX = '.bench.ts'
/** Benchmarks run in this order; any others follow alphabetically. */
const ORDER = ['read', 'latency', 'scale']
/** A benchmark still running after this long is killed and reported as failed. */
const CHILD_TIMEOUT_MS = 20 * 60_000

interface SectionMessage {
  readonly markdown?: string
  readonly error?: string
}

interface Outcome {
  readonly name: string
  readonly markdown: string
  readonly ok: boolean
  readonly seconds: number
}

const log = (message: string) => process.stderr.write(`${message}\n`)

function discover(): string[] {
  const names = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
  const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length)
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
}

/** Child side: runs one benchmark module and sends its section to the parent. */
async function runSection(file: string): Promise<void> {
  let message: SectionMessage
  try {
    const mod = (await import(pathToFileURL(file).href)) as { run?: () => Promise<string> }
    if (typeof mod.run !== 'function') throw new Error(`${basename(file)} does not export run()`)
    message = { markdown: await mod.run() }
  } catch (error) {
    message = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) }
  }
  // The benchmark may leave handles behind (sockets, ref'd timers): exit once the parent has the result.
  process.send!(message, () => process.exit(message.error === undefined ? 0 : 1))
}

/** Parent side: runs one benchmark in a fresh process. */
function runChild(name: string): Promise<Outcome> {
  const started = performance.now()
  const file = join(BENCH_DIR, name + SUFFIX)
  return new Promise((resolvePromise) => {
    const child = fork(fileURLToPath(import.meta.url), ['--section', file], {
      cwd: ROOT,
      execArgv: ['--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    })
    child.stdout?.pipe(process.stderr)
    let message: SectionMessage | undefined
    child.on('message', (m) => {
      message = m as SectionMessage
    })
    const timer = setTimeout(() => {
      log(`[bench] ${name}: still running after ${CHILD_TIMEOUT_MS / 1000} s, killing it`)
      child.kill('SIGKILL')
    }, CHILD_TIMEOUT_MS)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      const seconds = (performance.now() - started) / 1000
      if (message?.markdown !== undefined && code === 0) {
        resolvePromise({ name, markdown: message.markdown.trim(), ok: true, seconds })
        return
      }
      const why = message?.error ?? `the process exited with ${signal ?? `code ${code}`} without a result`
      const markdown = `## ${name}\n\nThis benchmark failed:\n\n\`\`\`\n${why}\n\`\`\``
      resolvePromise({ name, markdown, ok: false, seconds })
    })
  })
}

function header(): string {
  const cpus = os.cpus()
  const rows = [
    ['CPU', `${cpus[0]?.model.trim() ?? 'unknown'}`],
    ['Cores', String(cpus.length)],
    ['Memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['OS', `${os.type()} ${os.release()} (${process.arch})`],
    ['Node.js', process.version],
    // Other programs competing for the CPU show up in every timing: say how busy the machine was.
    [
      // Sections are rewritten one at a time (--only): this is the run that wrote last.
      'Load average when the last run written here started (1/5/15 min)',
      os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' / '),
    ],
    ['Date', new Date().toISOString().slice(0, 10)],
  ]
  return ['| Machine | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n')
}

const sectionStart = (name: string) => `<!-- bench:${name} -->`
const sectionEnd = (name: string) => `<!-- /bench:${name} -->`
const HEADER = 'machine'

const INTRO = `# Benchmarks

Measured with \`npm run bench\` on the machine below. Every claim is a **ratio against a baseline
measured in the same run** (a \`Map\`, a plain TTL cache, a timer per resource), never an absolute
timing: absolute numbers move with the machine, ratios much less.

## How to run

\`\`\`sh
npm run bench                     # every benchmark; the report goes to stdout
npm run bench -- --only read      # one benchmark: read, latency, scale, file-store, fleet, hit-ratio, family-memory
npm run bench -- --write          # also rewrite the results below
\`\`\`

Each \`bench/*.bench.ts\` runs in its own \`node --expose-gc\` process, one after the other, so heaps and
event loops do not interfere. Close other busy programs first: the benchmarks measure the event loop.

## How to read

- Each section starts with a **Targets** table: the target from the design, what was measured, and
  whether it was met. A missed target stays in the report with its diagnosis.
- Times per operation are the **median** over several rounds (after a warm-up); latencies are
  **percentiles** over every read (p99: 99% of reads were at least this fast).
- Memory per resource is the growth of \`heapUsed\` after full garbage collections, divided by the
  number of resources, with a shared value and pre-built names (so it is what the library itself costs).
- Results below were produced by the code in this repository at the date shown; re-run to check
  them on your machine.
`

/** Puts `body` between the markers of `name` in `doc`, appending the block if it is missing. */
function replaceBlock(doc: string, name: string, body: string): string {
  const start = sectionStart(name)
  const end = sectionEnd(name)
  const block = `${start}\n${body}\n${end}`
  const i = doc.indexOf(start)
  const j = doc.indexOf(end)
  if (i === -1 || j === -1 || j < i) return `${doc.trimEnd()}\n\n${block}\n`
  return doc.slice(0, i) + block + doc.slice(j + end.length)
}

function writeDoc(machine: string, outcomes: readonly Outcome[]): void {
  let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : INTRO
  doc = replaceBlock(doc, HEADER, `## Machine\n\n${machine}`)
  for (const o of outcomes) {
    // A failed run keeps the previous results of that benchmark rather than replacing them with an error.
    if (o.ok) doc = replaceBlock(doc, o.name, o.markdown)
  }
  writeFileSync(DOC, doc.endsWith('\n') ? doc : `${doc}\n`)
  log(`[bench] wrote ${DOC}`)
}

async function main(argv: readonly string[]): Promise<number> {
  const write = argv.includes('--write')
  const onlyAt = argv.indexOf('--only')
  const available = discover()
  let names = available
  if (onlyAt !== -1) {
    const only = argv[onlyAt + 1]?.replace(/\.bench\.ts$/, '')
    if (only === undefined || !available.includes(only)) {
      log(`[bench] --only expects one of: ${available.join(', ')}`)
      return 2
    }
    names = [only]
  }
  const machine = header()
  const outcomes: Outcome[] = []
  for (const name of names) {
    log(`[bench] ${name}: running`)
    const outcome = await runChild(name)
    log(`[bench] ${name}: ${outcome.ok ? 'done' : 'FAILED'} in ${outcome.seconds.toFixed(1)} s`)
    outcomes.push(outcome)
  }
  const report = [`# Benchmark report`, machine, ...outcomes.map((o) => o.markdown)].join('\n\n')
  process.stdout.write(`${report}\n`)
  if (write) writeDoc(machine, outcomes)
  return outcomes.every((o) => o.ok) ? 0 : 1
}

const args = process.argv.slice(2)
if (args[0] === '--section' && args[1] !== undefined) {
  await runSection(args[1])
} else {
  process.exitCode = await main(args)
}
