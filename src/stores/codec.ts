/**
 * How values are written to a store as text and read back: the one codec of the file and Redis
 * stores, and the reference for custom ones.
 */
export interface Codec {
  /** Turns a value into text. May throw (a cycle, a BigInt): the write is then refused and reported. */
  encode(value: unknown): string
  /** Turns text written by {@link Codec.encode} back into a value. May throw on text it cannot read. */
  decode(text: string): unknown
}

/**
 * The text of a top-level `undefined`. `JSON.stringify(undefined)` has no text, and `''` is never
 * valid JSON, so it cannot be confused with any other value.
 */
const UNDEFINED_TEXT = ''

/**
 * Drops `__proto__` keys. `JSON.parse` itself only creates an own property of that name, but code
 * that later merges the value (`Object.assign`, a spread into a plain object, a deep merge) would
 * set a prototype with it. Every other key, `constructor` and `prototype` included, is kept: they
 * are ordinary data to `JSON.parse`.
 */
function withoutProto(key: string, value: unknown): unknown {
  return key === '__proto__' ? undefined : value
}

/**
 * JSON, with `undefined` kept as `undefined` at the top level (inside objects and arrays JSON's own
 * rules apply: such properties are omitted, such array items become `null`), and `__proto__` keys
 * dropped on read.
 */
export const jsonCodec: Codec = {
  encode(value) {
    if (value === undefined) return UNDEFINED_TEXT
    const text = JSON.stringify(value) as string | undefined
    // A function or a symbol: JSON has no text for it, and it would come back as something else.
    if (text === undefined) throw new TypeError(`a ${typeof value} cannot be written as JSON`)
    return text
  },
  decode(text) {
    if (text === UNDEFINED_TEXT) return undefined
    return JSON.parse(text, withoutProto)
  },
}
