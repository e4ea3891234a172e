// Checks of values that come from outside this process's loader: a restored snapshot, another
// replica's entry, and (if asked) a load. A Standard Schema object or a predicate.
import { describe, InvalidValueError, OptionRangeError, OptionTypeError, type ValueIssue } from './errors.js'

/** One issue of a {@link StandardSchema} result. */
export interface StandardIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

/** What a {@link StandardSchema} returns: the (possibly transformed) value, or its issues. */
export type StandardResult<T> =
  | { readonly value: T; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> }

/**
 * The part of the Standard Schema interface (version 1) that evergreen uses: an object with a
 * `~standard` property whose `validate` returns `{ value }` or `{ issues }`, possibly in a promise.
 * zod (3.24 and later), valibot (1.0 and later) and arktype (2.0 and later) schemas implement it.
 */
export interface StandardSchema<T = unknown> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => StandardResult<T> | Promise<StandardResult<T>>
  }
}

/**
 * A resource's `validate` option: a Standard Schema, or a predicate that returns (or resolves to)
 * `true` for a value to serve. A predicate that throws or rejects rejects the value.
 */
export type Validate<T> = StandardSchema<T> | ((value: unknown) => boolean | Promise<boolean>)

/** A value that passed (possibly transformed by the schema), or the issues of one that failed. */
export type Verdict =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly issues: ValueIssue[] }

/** A resolved validator: the option as one function. */
export type Check = (value: unknown) => Verdict | Promise<Verdict>

const MAX_ISSUES = 10
const MAX_MESSAGE = 200

/** Whether `value` looks like a Standard Schema (read without throwing, for option checks). */
export function isStandardSchema(value: unknown): boolean {
  try {
    const standard = (value as Record<string, unknown> | null)?.['~standard'] as
      | Record<string, unknown>
      | undefined
    return typeof standard === 'object' && standard !== null && typeof standard.validate === 'function'
  } catch {
    return false
  }
}

function shortened(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text
}

function pathOf(path: StandardIssue['path']): string | undefined {
  if (!Array.isArray(path) || path.length === 0) return undefined
  const keys = path.map((step: unknown) => {
    const key = typeof step === 'object' && step !== null ? (step as { key?: unknown }).key : step
    return typeof key === 'symbol' ? key.toString() : String(key)
  })
  return shortened(keys.join('.'))
}

/** At most ten issues, each shortened; whatever a hostile result holds, this never throws. */
export function summarise(issues: unknown): ValueIssue[] {
  const out: ValueIssue[] = []
  try {
    if (!Array.isArray(issues)) return [{ message: 'rejected, without a list of issues' }]
    for (const issue of issues.slice(0, MAX_ISSUES) as unknown[]) {
      const record = (typeof issue === 'object' && issue !== null ? issue : {}) as StandardIssue
      const message = typeof record.message === 'string' ? record.message : describe(issue)
      const path = pathOf(record.path)
      out.push(path === undefined ? { message: shortened(message) } : { message: shortened(message), path })
    }
    if (out.length === 0) out.push({ message: 'rejected, with an empty list of issues' })
  } catch (error) {
    out.push({ message: `its issues could not be read: ${errorText(error)}` })
  }
  return out
}

function errorText(error: unknown): string {
  try {
    return shortened(error instanceof Error ? error.message : describe(error))
  } catch {
    return 'an unreadable error'
  }
}

const threw = (error: unknown): Verdict => ({
  ok: false,
  issues: [{ message: `validate threw: ${errorText(error)}` }],
})

function fromSchema(result: unknown): Verdict {
  try {
    const r = result as StandardResult<unknown> | null
    if (typeof r !== 'object' || r === null)
      return { ok: false, issues: [{ message: 'validate returned no result' }] }
    if (r.issues !== undefined) return { ok: false, issues: summarise(r.issues) }
    return { ok: true, value: (r as { value: unknown }).value }
  } catch (error) {
    return threw(error)
  }
}

function fromPredicate(value: unknown, passed: unknown): Verdict {
  return passed === true
    ? { ok: true, value }
    : { ok: false, issues: [{ message: 'validate returned false' }] }
}

/** The `validate` option as one function that never throws (a synchronous result stays synchronous). */
export function toCheck(validate: Validate<unknown>): Check {
  if (typeof validate === 'function') {
    return (value) => {
      try {
        const passed = validate(value)
        if (passed instanceof Promise) return passed.then((p) => fromPredicate(value, p), threw)
        return fromPredicate(value, passed)
      } catch (error) {
        return threw(error)
      }
    }
  }
  const standard = validate['~standard']
  return (value) => {
    try {
      const result = standard.validate(value)
      if (result instanceof Promise) return result.then(fromSchema, threw)
      return fromSchema(result)
    } catch (error) {
      return threw(error)
    }
  }
}

/**
 * Checks `value` of `resource` from `source`: resolves with the value to serve, or rejects with an
 * {@link InvalidValueError}.
 */
export async function checked(
  check: Check,
  resource: string,
  source: 'store' | 'fleet' | 'load',
  value: unknown,
): Promise<unknown> {
  const verdict = await check(value)
  if (verdict.ok) return verdict.value
  throw new InvalidValueError(resource, source, verdict.issues)
}

/**
 * Whether `entry` (restored, or another replica's) may be served: written under the resource's
 * schema version (else `undefined`: ignored silently, a deploy under way), and passing its check.
 * Resolves with the value to serve (the schema's output), or the check's error.
 */
export async function admission(
  settings: ValidationSettings,
  resource: string,
  entry: { readonly value: unknown; readonly schemaVersion?: number | undefined },
  source: 'store' | 'fleet',
): Promise<{ value: unknown } | { error: unknown } | undefined> {
  if (entry.schemaVersion !== settings.schemaVersion) return undefined
  const check = settings.check
  if (check === undefined) return { value: entry.value }
  try {
    return { value: await checked(check, resource, source, entry.value) }
  } catch (error) {
    return { error }
  }
}

/** A load's result, checked (`validateLoads`): rejects with an {@link InvalidValueError} if invalid. */
export function validatedLoad<T>(
  check: Check | undefined,
  resource: string,
  result: T | Promise<T>,
): Promise<T> {
  const loaded = Promise.resolve(result)
  if (check === undefined) return loaded
  return loaded.then((value) => checked(check, resource, 'load', value) as Promise<T>)
}

/** The validation settings of a resource. */
export interface ValidationSettings {
  readonly check: Check | undefined
  readonly validateLoads: boolean
  readonly schemaVersion: number | undefined
}

/** Checks `validate`, `validateLoads` and `schemaVersion` of `input` over `base`; `label` names an option in errors. */
export function resolveValidation(
  input: { validate?: unknown; validateLoads?: unknown; schemaVersion?: unknown },
  base: ValidationSettings,
  label: (key: string) => string,
): ValidationSettings {
  const validate = input.validate
  if (validate !== undefined && typeof validate !== 'function' && !isStandardSchema(validate)) {
    throw new OptionTypeError(
      label('validate'),
      'a Standard Schema (an object with ~standard.validate) or a function (value) => boolean',
      validate,
    )
  }
  if (input.validateLoads !== undefined && typeof input.validateLoads !== 'boolean') {
    throw new OptionTypeError(label('validateLoads'), 'a boolean', input.validateLoads)
  }
  const schemaVersion = input.schemaVersion
  if (schemaVersion !== undefined) {
    if (typeof schemaVersion !== 'number')
      throw new OptionTypeError(label('schemaVersion'), 'a number', schemaVersion)
    if (!(Number.isSafeInteger(schemaVersion) && schemaVersion >= 0))
      throw new OptionRangeError(label('schemaVersion'), 'a non-negative safe integer', schemaVersion)
  }

  return {
    check: validate === undefined ? base.check : toCheck(validate as Validate<unknown>),
    validateLoads: (input.validateLoads as boolean | undefined) ?? base.validateLoads,
    schemaVersion: 'schemaVersion' in input ? (schemaVersion as number | undefined) : base.schemaVersion,
  }
}
