import { describe, expect, it } from 'vitest'
import {
  EvergreenError,
  LoadAbortedError,
  LoadError,
  LoadTimeoutError,
  UndefinedResourceError,
} from '../../src/index.js'
import { registry, rejection, useFakeTime } from './helpers.js'

useFakeTime()

const frames = (error: Error) =>
  (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '))

describe('error stacks', () => {
  it('load errors carry no stack of their own (it would show only the scheduler); the cause keeps its own', async () => {
    const resources = registry()
    const pods = resources.define('pods', () => {
      throw new Error('backend down')
    })
    const error = (await rejection(pods.refresh())) as LoadError
    expect(error).toBeInstanceOf(LoadError)
    expect(error.stack).toContain('resource "pods" failed to load: backend down')
    expect(frames(error)).toEqual([])
    expect(frames(error.cause as Error).length).toBeGreaterThan(0)
    for (const e of [new LoadTimeoutError('pods', 1_000), new LoadAbortedError('pods', 'stopped')]) {
      expect(e).toBeInstanceOf(EvergreenError)
      expect(frames(e)).toEqual([])
    }
  })

  it('leaves Error.stackTraceLimit as it found it', () => {
    const before = Error.stackTraceLimit
    Error.stackTraceLimit = 7
    try {
      new LoadError('pods', new Error('x'))
      expect(Error.stackTraceLimit).toBe(7)
      expect(frames(new Error('after')).length).toBeGreaterThan(0)
    } finally {
      Error.stackTraceLimit = before
    }
  })

  it("errors thrown at the caller's own call keep their stack", () => {
    const resources = registry()
    let thrown: unknown
    try {
      resources.get('nope')
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(UndefinedResourceError)
    expect(frames(thrown as Error).length).toBeGreaterThan(0)
  })
})
