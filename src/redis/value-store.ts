import type { Cluster, Redis } from 'ioredis'
import { StoreError } from '../core/errors.js'
import type { EntryHead } from '../stores/fleet.js'
import type { StoreEntry } from '../stores/store.js'
import type { RedisConnection, Report } from './connection.js'
import { keysOf, parseRead, type ReadResult } from './entry.js'
import type { RedisSettings } from './options.js'
import { READ, WRITE } from './scripts.js'

/** What the value store and the coordinator share: the connection, the settings, a clock and a report. */
export interface RedisEnv {
  readonly connection: RedisConnection
  readonly settings: RedisSettings
  /** The registry's clock (the system clock until a registry attaches one): load times and ages. */
  now(): number
  readonly report: Report
}

/** UTF-8 size of `text` in bytes, without encoding it (a lone surrogate counts 3, as it is written). */
export function utf8Bytes(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit < 0xdc00 && isLow(text.charCodeAt(i + 1))) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

const isLow = (unit: number): boolean => unit >= 0xdc00 && unit < 0xe000

/** Whether `text` is at most `limit` bytes in UTF-8; each UTF-16 unit is 1 to 3 bytes, so most need no count. */
function fits(text: string, limit: number): boolean {
  if (text.length * 3 <= limit) return true
  return text.length <= limit && utf8Bytes(text) <= limit
}

const isCluster = (client: unknown): client is Cluster =>
  typeof (client as { nodes?: unknown }).nodes === 'function'

/** SCAN MATCH pattern matching `text` literally (glob characters escaped). */
export function literalPattern(text: string): string {
  return text.replace(/[\\*?[\]^-]/g, (c) => `\\${c}`)
}

/**
 * The values of a Redis store: each resource's entry (version, load time, serialised value) in a
 * hash, read and written through scripts. Writes are fenced by version; values above
 * `maxValueBytes` are refused both ways; an entry whose fields are not what a store writes is
 * reported and counts as absent (the next write replaces it).
 */
export class RedisValueStore {
  readonly #env: RedisEnv

  constructor(env: RedisEnv) {
    this.#env = env
  }

  /** Version and load time, without the value; `undefined` when there is none (or it is corrupt). */
  async head(name: string): Promise<EntryHead | undefined> {
    const found = await this.#read(name, false, 'head')
    return found.kind === 'entry' ? { version: found.version, loadedAt: found.loadedAt } : undefined
  }

  async get(name: string): Promise<StoreEntry | undefined> {
    const found = await this.#read(name, true, 'get')
    if (found.kind !== 'entry') return undefined
    const { maxValueBytes, deserialize } = this.#env.settings
    if (found.payload === undefined || found.size > maxValueBytes)
      throw tooLarge(name, found.size, maxValueBytes, 'read')
    let value: unknown
    try {
      value = deserialize(found.payload)
    } catch (error) {
      throw new StoreError(`redis: the saved value of "${name}" cannot be decoded`, {
        resource: name,
        cause: this.#env.settings.redactor.error(error),
      })
    }
    const { version, loadedAt, schemaVersion } = found
    return schemaVersion === undefined
      ? { value, version, loadedAt }
      : { value, version, loadedAt, schemaVersion }
  }

  set(name: string, entry: StoreEntry): Promise<boolean> {
    const { serialize, maxValueBytes, prefix, redactor } = this.#env.settings
    const { version, loadedAt, schemaVersion } = entry
    const schemaOk =
      schemaVersion === undefined || (Number.isSafeInteger(schemaVersion) && schemaVersion >= 0)
    if (!Number.isSafeInteger(version) || version < 1 || !Number.isFinite(loadedAt) || !schemaOk) {
      return Promise.reject(
        new StoreError(
          `redis: the entry of "${name}" has version ${version}, load time ${loadedAt} and schema version ${schemaVersion}`,
          {
            resource: name,
          },
        ),
      )
    }
    let payload: string
    try {
      payload = serialize(entry.value)
      if (typeof payload !== 'string') throw new TypeError(`serialize returned ${typeof payload}`)
    } catch (error) {
      return Promise.reject(
        new StoreError(`redis: the value of "${name}" cannot be serialised`, {
          resource: name,
          cause: redactor.error(error),
        }),
      )
    }
    if (!fits(payload, maxValueBytes))
      return Promise.reject(tooLarge(name, utf8Bytes(payload), maxValueBytes, 'write'))
    const message = JSON.stringify({ n: name, v: version })
    // The writer's own measure of the value's age; the server turns it into a time on its clock.
    const age = Math.max(0, Math.round(this.#env.now() - loadedAt))
    return this.#env.connection.run('write', name, async (client) => {
      const written = await WRITE.run(
        client,
        [keysOf(prefix, name).value],
        [version, loadedAt, payload, `${prefix}:changes`, message, age, schemaVersion ?? ''],
      )
      return written === 1
    })
  }

  delete(name: string): Promise<void> {
    return this.#env.connection.run('delete', name, async (client) => {
      const keys = keysOf(this.#env.settings.prefix, name)
      await client.del(keys.value, keys.lease, keys.fence)
    })
  }

  /** Names with an entry under this prefix, and only this one: the prefix is matched literally. */
  list(): Promise<string[]> {
    const { prefix } = this.#env.settings
    return this.#env.connection.run('list', undefined, async (client) => {
      const nodes = isCluster(client) ? client.nodes('master') : [client as Redis]
      const names = new Set<string>()
      const pattern = `${literalPattern(prefix)}:{*}:value`
      const head = `${prefix}:{`
      for (const node of nodes) {
        let cursor = '0'
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
          cursor = next
          for (const key of found) {
            // MATCH is a first filter; the key must start with the prefix exactly.
            if (key.startsWith(head) && key.endsWith('}:value'))
              names.add(key.slice(head.length, -'}:value'.length))
          }
        } while (cursor !== '0')
      }
      return [...names]
    })
  }

  async #read(name: string, withValue: boolean, what: string): Promise<ReadResult> {
    const { prefix, maxValueBytes } = this.#env.settings
    const cap = Number.isFinite(maxValueBytes) ? maxValueBytes : -1
    const reply = await this.#env.connection.run(what, name, (client) =>
      READ.run(client, [keysOf(prefix, name).value], [withValue ? '1' : '0', cap]),
    )
    const found = parseRead(reply, withValue, this.#env.now())
    if (found.kind === 'corrupt') {
      this.#env.report(
        new StoreError(
          `redis: the saved entry of "${name}" is corrupt (${found.why}): it is ignored, and replaced by the next write`,
          { resource: name },
        ),
        name,
      )
    }
    return found
  }
}

function tooLarge(name: string, size: number, max: number, op: 'read' | 'write'): StoreError {
  const what = op === 'write' ? 'is not written' : 'is not read'
  return new StoreError(
    `redis: the value of "${name}" is ${size} bytes, above maxValueBytes (${max}): it ${what}`,
    { resource: name },
  )
}
