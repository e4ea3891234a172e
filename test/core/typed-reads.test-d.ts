// Type tests for reads: checked by `tsc -p tsconfig.json` (npm run typecheck); `@ts-expect-error`
// fails the compilation when the line below it compiles.
//
// The handle `define` returns is the typed way to read a value. A read by name cannot know the type
// of what was defined under that name, so it says `unknown` and the caller narrows or casts in plain
// sight: no generic parameter quietly takes whatever type the caller writes.
import { describe, expectTypeOf, it } from 'vitest'
import { type Resource, Resources } from '../../src/index.js'

interface Rates {
  eur: number
}

const resources = new Resources({ interval: '10s' })
const rates = resources.define('rates', async (): Promise<Rates> => ({ eur: 1.1 }))

describe('typed reads', () => {
  it('reads through the handle with the type of the loader', () => {
    expectTypeOf(rates.get()).toEqualTypeOf<Rates>()
    const eur: number = rates.get().eur
    void eur
  })

  it('reads by name as unknown', () => {
    expectTypeOf(resources.get('rates')).toEqualTypeOf<unknown>()
    expectTypeOf(resources.resource('rates')).toEqualTypeOf<Resource<unknown>>()
    expectTypeOf(resources.resource('rates').get()).toEqualTypeOf<unknown>()
    expectTypeOf(resources.resource('rates').peek().value).toEqualTypeOf<unknown>()
  })

  it('does not let a read by name pass for a typed value', () => {
    // @ts-expect-error: unknown is not a Rates
    const typed: Rates = resources.get('rates')
    // @ts-expect-error: unknown is not a string
    const text: string = resources.get('rates')
    // @ts-expect-error: no property of unknown can be read
    resources.get('rates').eur
    // @ts-expect-error: get takes no type argument (it used to take any, unchecked)
    resources.get<Rates>('rates')
    // @ts-expect-error: neither does resource
    resources.resource<Rates>('rates')
    // @ts-expect-error: a handle read by name is not a typed handle
    const handle: Resource<Rates> = resources.resource('rates')
    void [typed, text, handle]
  })

  it('takes an explicit cast, or a narrowing, where the caller knows better', () => {
    const cast = resources.get('rates') as Rates
    expectTypeOf(cast).toEqualTypeOf<Rates>()
    const handle = resources.resource('rates') as Resource<Rates>
    expectTypeOf(handle.get()).toEqualTypeOf<Rates>()
    const value = resources.get('rates')
    if (typeof value === 'object' && value !== null && 'eur' in value) {
      expectTypeOf(value).toEqualTypeOf<object & Record<'eur', unknown>>()
    }
  })
})
