// Fails the run on what the library promises never to cause: unhandled rejections and warnings
// (MaxListenersExceededWarning among them). Installed for every suite.
import { afterAll, afterEach } from 'vitest'

const problems: string[] = []
// The guard's own test reads this to prove the guard works.
;(globalThis as { __testGuardProblems?: string[] }).__testGuardProblems = problems

process.on('unhandledRejection', (reason) => {
  problems.push(`unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`)
})
process.on('warning', (warning) => {
  // Node's own experimental notices are not ours to fail on.
  if (warning.name === 'ExperimentalWarning') return
  problems.push(`process warning: ${warning.name}: ${warning.message}`)
})

function check(): void {
  if (problems.length > 0) {
    const found = problems.splice(0)
    throw new Error(`test guard:\n${found.join('\n')}`)
  }
}

afterEach(async () => {
  // Rejections are reported after a turn of the event loop.
  await new Promise((resolve) => setImmediate(resolve))
  check()
})
afterAll(check)
