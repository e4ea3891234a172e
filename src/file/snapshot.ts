/**
 * The on-disk format of the file store (see docs/file-store.md): one JSON document holding every
 * entry, each value already serialised to a string by the store's `serialize`.
 *
 * ```json
 * {"kind":"evergreen-snapshot","format":1,"savedAt":1718000000000,"entries":{
 * "pods":{"version":3,"loadedAt":1717999990000,"value":"[\"web-1\",\"web-2\"]"}
 * }}
 * ```
 */

/** Marks a file as a snapshot of this store. */
export const SNAPSHOT_KIND = 'evergreen-snapshot'
/** The format this code writes and the newest it reads. Bumped on any incompatible change. */
export const SNAPSHOT_FORMAT = 1

/** One resource's entry with its value in serialised form, as held in memory and on disk. */
export interface EncodedEntry {
  readonly version: number
  readonly loadedAt: number
  /** The value, as returned by `serialize`. */
  readonly data: string
  /** The schema version the entry was written under, if any (the optional `"schemaVersion"` field). */
  readonly schemaVersion?: number | undefined
  /** This entry's line of the snapshot, built on the first write that needs it. */
  line?: string
}

/** Why a file is not a snapshot this code can use. */
export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError'
  constructor(
    message: string,
    /** The file is a snapshot of a newer format, not a damaged one. */
    readonly newer = false,
  ) {
    super(message)
  }
}

/** Whether `version` and `loadedAt` are what an entry may carry. */
/** Whether `schemaVersion` is what an entry may carry: absent, or a non-negative safe integer. */
export function isValidSchemaVersion(schemaVersion: unknown): boolean {
  return (
    schemaVersion === undefined ||
    (typeof schemaVersion === 'number' && Number.isSafeInteger(schemaVersion) && schemaVersion >= 0)
  )
}

export function isValidHead(version: unknown, loadedAt: unknown): boolean {
  return (
    typeof version === 'number' &&
    Number.isSafeInteger(version) &&
    version > 0 &&
    typeof loadedAt === 'number' &&
    Number.isFinite(loadedAt)
  )
}

/** The whole snapshot text for `entries`. Each entry's line is cached on it for the next write. */
export function encodeSnapshot(entries: ReadonlyMap<string, EncodedEntry>, savedAt: number): string {
  const lines: string[] = []
  for (const [name, entry] of entries) {
    const schema = entry.schemaVersion === undefined ? '' : `"schemaVersion":${entry.schemaVersion},`
    entry.line ??= `${JSON.stringify(name)}:{"version":${entry.version},"loadedAt":${entry.loadedAt},${schema}"value":${JSON.stringify(entry.data)}}`
    lines.push(entry.line)
  }
  const head = `{"kind":${JSON.stringify(SNAPSHOT_KIND)},"format":${SNAPSHOT_FORMAT},"savedAt":${savedAt}`
  return `${head},"entries":{\n${lines.join(',\n')}\n}}\n`
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Reads an own property only: a hostile document cannot answer through a prototype. */
function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined
}

/**
 * Parses and checks a snapshot. Entries go into a `Map`, so names such as `__proto__` are plain
 * keys. Throws `SyntaxError` for text that is not JSON and {@link SnapshotFormatError} for JSON of
 * the wrong shape or of a newer format.
 */
export function parseSnapshot(text: string): Map<string, EncodedEntry> {
  const document: unknown = JSON.parse(text)
  if (!isRecord(document) || own(document, 'kind') !== SNAPSHOT_KIND) {
    throw new SnapshotFormatError(`it is not an evergreen snapshot (no "kind": "${SNAPSHOT_KIND}")`)
  }
  const format = own(document, 'format')
  if (typeof format !== 'number' || !Number.isSafeInteger(format) || format < 1) {
    throw new SnapshotFormatError('its "format" is not a positive integer')
  }
  if (format > SNAPSHOT_FORMAT) {
    throw new SnapshotFormatError(
      `it has format ${format}, newer than the newest this version reads (${SNAPSHOT_FORMAT})`,
      true,
    )
  }
  const entries = own(document, 'entries')
  if (!isRecord(entries)) throw new SnapshotFormatError('its "entries" is not an object')
  const result = new Map<string, EncodedEntry>()
  for (const name of Object.keys(entries)) {
    const entry = entries[name]
    if (!isRecord(entry)) throw new SnapshotFormatError(`its entry ${JSON.stringify(name)} is not an object`)
    const version = own(entry, 'version')
    const loadedAt = own(entry, 'loadedAt')
    const data = own(entry, 'value')
    const schemaVersion = own(entry, 'schemaVersion')
    if (!isValidHead(version, loadedAt) || typeof data !== 'string' || !isValidSchemaVersion(schemaVersion)) {
      throw new SnapshotFormatError(
        `its entry ${JSON.stringify(name)} lacks a positive integer "version", a numeric "loadedAt" or a string "value" (or has a "schemaVersion" that is not a non-negative integer)`,
      )
    }
    const head = { version: version as number, loadedAt: loadedAt as number, data }
    result.set(name, schemaVersion === undefined ? head : { ...head, schemaVersion: schemaVersion as number })
  }
  return result
}

/** Keys that could reach an object's prototype when a parsed value is later merged or assigned. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** JSON, as written by `JSON.stringify`; refuses values that have no JSON form (`undefined`, functions). */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value)
  if (text === undefined) throw new TypeError(`${typeof value} has no JSON form`)
  return text
}

/** `JSON.parse`, dropping every `__proto__`, `constructor` and `prototype` key. */
export function fromJson(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => (UNSAFE_KEYS.has(key) ? undefined : value))
}
