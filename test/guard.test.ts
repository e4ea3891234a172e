import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'

const problems = (globalThis as { __testGuardProblems?: string[] }).__testGuardProblems!

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('the test guard every suite runs under', () => {
  it('records an unhandled rejection', async () => {
    void Promise.reject(new Error('deliberate'))
    await turn()
    await turn()
    expect(problems.splice(0).join()).toMatch(/unhandled rejection: Error: deliberate/)
  })

  it('records a MaxListenersExceededWarning', async () => {
    const emitter = new EventEmitter()
    emitter.setMaxListeners(1)
    emitter.on('x', () => {})
    emitter.on('x', () => {})
    await turn()
    await turn()
    expect(problems.splice(0).join()).toMatch(/MaxListenersExceededWarning/)
  })
})
