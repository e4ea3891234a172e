// Keeps passwords and URL user-info out of everything the Redis store hands out: error messages,
// `received` values and causes. ioredis errors carry the command they failed on (`command.args`:
// the password of an AUTH, or a whole value of a write), so no ioredis error is handed out as it is.

const MASK = '***'
/** The longest message kept from a cause: an error reply can quote a whole command. */
const MAX_MESSAGE = 500
/** The longest stack kept from a cause. */
const MAX_STACK = 4_000

/** Removes the given secrets (and any URL user-info) from text. */
export class Redactor {
  readonly #secrets: string[]

  constructor(secrets: readonly (string | undefined)[]) {
    // Longest first, so a secret that contains another is masked whole.
    this.#secrets = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s !== ''))]
      .flatMap((s) => [s, safeEncode(s)])
      .sort((a, b) => b.length - a.length)
  }

  /** `text` with every secret and every URL user-info masked. */
  text(text: string): string {
    let out = withoutUserInfo(text)
    for (const secret of this.#secrets) out = out.split(secret).join(MASK)
    return out
  }

  /**
   * A copy of `error` safe to hand out: an `Error` of the same name and `code` whose message and
   * stack are redacted and bounded, with none of the original's other properties (`command`,
   * `args`, `address`...), and its own cause made safe the same way (a few levels deep).
   */
  error(error: unknown, depth = 0): Error {
    if (!isError(error)) return new Error(this.#bounded(this.text(describeThrown(error))))
    const message = this.#bounded(this.text(readString(() => error.message) ?? 'unknown error'))
    const cause = depth < 3 ? readCause(error) : undefined
    const copy =
      cause === undefined ? new Error(message) : new Error(message, { cause: this.error(cause, depth + 1) })
    const name = readString(() => error.name)
    if (name !== undefined) copy.name = this.#bounded(name)
    const code = readString(() => (error as { code?: unknown }).code)
    if (code !== undefined)
      Object.defineProperty(copy, 'code', { value: this.#bounded(code), enumerable: true })
    const stack = readString(() => error.stack)
    copy.stack = stack === undefined ? `${copy.name}: ${message}` : this.#bounded(this.text(stack), MAX_STACK)
    return copy
  }

  /** A description of an option's value that is safe to quote in an error (URLs lose their user-info). */
  received(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value)
    if (isInstance(value, URL)) return this.text(value.href)
    if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value)
    return value
  }

  #bounded(text: string, max = MAX_MESSAGE): string {
    return text.length > max ? `${text.slice(0, max - 3)}...` : text
  }
}

/** `text` with the user-info of every `scheme://user:password@host` masked, in one pass. */
function withoutUserInfo(text: string): string {
  let out = ''
  let from = 0
  for (let at = text.indexOf('://'); at !== -1; at = text.indexOf('://', at + 3)) {
    const start = at + 3
    let end = start
    while (end < text.length && !endsUserInfo(text.charCodeAt(end))) end++
    if (text.charCodeAt(end) === AT && end > start) {
      out += `${text.slice(from, start)}${MASK}`
      from = end
    }
  }
  return from === 0 ? text : out + text.slice(from)
}

const AT = 0x40
/** Where the user-info of a URL ends: `@` (it was user-info), or `/ ? #` and white space (it was not). */
const endsUserInfo = (c: number): boolean =>
  c === AT || c === 0x2f || c === 0x3f || c === 0x23 || c === 0x20 || (c >= 0x09 && c <= 0x0d)

/** `value instanceof type`, false for a value that cannot be inspected (a Proxy whose traps throw). */
export function isInstance<T>(value: unknown, type: abstract new (...args: never[]) => T): value is T {
  try {
    return value instanceof type
  } catch {
    return false
  }
}

const isError = (value: unknown): value is Error => isInstance(value, Error)

function safeEncode(secret: string): string {
  try {
    return encodeURIComponent(secret)
  } catch {
    return secret
  }
}

function readString(read: () => unknown): string | undefined {
  try {
    const value = read()
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

function readCause(error: Error): unknown {
  try {
    return error.cause
  } catch {
    return undefined
  }
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return String(value)
  try {
    return Object.prototype.toString.call(value)
  } catch {
    return 'an uninspectable value'
  }
}

/**
 * The password of a URL string (as written and decoded), for a {@link Redactor}. A user name is
 * masked where it appears as user-info (`redis://user:pw@`), not everywhere.
 */
export function urlSecrets(url: string): string[] {
  try {
    const { password } = new URL(url)
    return password === '' ? [] : [password, safeDecode(password)]
  } catch {
    return []
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** Passwords found in ioredis options (of a client given to the store, or of ours). */
export function optionSecrets(options: unknown, depth = 0): string[] {
  if (typeof options !== 'object' || options === null || depth > 1) return []
  const out: string[] = []
  try {
    const record = options as Record<string, unknown>
    for (const key of ['password', 'sentinelPassword']) {
      const value = record[key]
      if (typeof value === 'string') out.push(value)
    }
    // A Cluster keeps its nodes' options apart.
    out.push(...optionSecrets(record.redisOptions, depth + 1))
  } catch {
    // Options that cannot be read have no password we could find.
  }
  return out
}
