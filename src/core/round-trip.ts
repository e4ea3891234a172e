import type { Codec } from '../stores/codec.js'
import { StoreError, shorten } from './errors.js'

/** `value` through `codec` and back, or the `StoreError` that says why it cannot be. */
export function roundTrip(
  codec: Codec,
  value: unknown,
  name: string,
): { value: unknown; error: undefined } | { value: undefined; error: StoreError } {
  try {
    return { value: codec.decode(codec.encode(value)), error: undefined }
  } catch (error) {
    const why = StoreError.wrap(
      error,
      `the value of resource "${shorten(name)}" does not survive its store's codec, so no replica may serve it`,
      name,
    )
    return { value: undefined, error: why }
  }
}
