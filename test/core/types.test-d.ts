// Type tests: checked by `tsc -p tsconfig.json` (expectTypeOf fails compilation on a mismatch).
import { describe, expectTypeOf, it } from 'vitest'
import {
  type ChangeEvent,
  type ErrorEvent,
  type LoadContext,
  type LoadError,
  type LoadEvent,
  type Resource,
  type ResourceSnapshot,
  Resources,
} from '../../src/index.js'

const resources = new Resources({ interval: '10s', retry: { initial: '1s', factor: 2 } })

describe('types', () => {
  it('infers the value type of a resource from its loader, sync or async', () => {
    const pods = resources.define('pods', async () => [{ name: 'a' }])
    expectTypeOf(pods).toEqualTypeOf<Resource<{ name: string }[]>>()
    expectTypeOf(pods.get()).toEqualTypeOf<{ name: string }[]>()
    expectTypeOf(pods.refresh()).toEqualTypeOf<Promise<{ name: string }[]>>()
    expectTypeOf(pods.ready()).toEqualTypeOf<Promise<{ name: string }[]>>()
    expectTypeOf(pods.peek()).toEqualTypeOf<ResourceSnapshot<{ name: string }[]>>()
    const count = resources.define('count', () => 3)
    expectTypeOf(count.get()).toEqualTypeOf<number>()
  })

  it('gives the loader a typed context, with previous of the value type given to define', () => {
    // TypeScript cannot infer T from a loader that reads its own context, so it is given here.
    resources.define<number>('typed', (ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<LoadContext<number>>()
      expectTypeOf(ctx.previous).toEqualTypeOf<number | undefined>()
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>()
      return 1
    })
  })

  it('types subscribers and equals with the value type', () => {
    const pods = resources.define('pods2', () => ({ n: 1 }), { equals: (a, b) => a.n === b.n })
    pods.subscribe((value, previous) => {
      expectTypeOf(value).toEqualTypeOf<{ n: number }>()
      expectTypeOf(previous).toEqualTypeOf<{ n: number } | undefined>()
    })
  })

  it('types event payloads by event name', () => {
    resources.on('load', (e) => expectTypeOf(e).toEqualTypeOf<LoadEvent>())
    resources.on('error', (e) => {
      expectTypeOf(e).toEqualTypeOf<ErrorEvent>()
      expectTypeOf(e.error).toEqualTypeOf<LoadError>()
    })
    resources.on('change', (e) => expectTypeOf(e).toEqualTypeOf<ChangeEvent>())
    expectTypeOf(resources.on('load', () => {})).toEqualTypeOf<() => void>()
  })

  it('rejects malformed options at compile time', () => {
    // @ts-expect-error: not a duration string
    new Resources({ interval: '10 seconds' })
    // @ts-expect-error: unknown option
    new Resources({ intervall: 1 })
    // @ts-expect-error: the loader must be a function
    resources.define('x', 42)
    // @ts-expect-error: equals is per resource, not a registry option
    new Resources({ equals: Object.is })
  })
})
