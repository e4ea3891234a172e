/** A family key as callers give it: a string, or a number that stands for its `String()`. */
export type FamilyKey = string | number

/**
 * The one string form of a family key: `1` and `'1'` are the same key. `-0` becomes `'0'`, as
 * `String(-0)` does.
 */
export function keyString(key: FamilyKey): string {
  return typeof key === 'string' ? key : String(key)
}
