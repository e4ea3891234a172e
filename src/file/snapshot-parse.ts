import {
  type EncodedEntry,
  encodeEntry,
  isValidHead,
  SNAPSHOT_FORMAT,
  SNAPSHOT_KIND,
  SnapshotFormatError,
} from './snapshot.js'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Reads an own property only: a hostile document cannot answer through a prototype. */
function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined
}

/** Checks the `kind` and `format` of a parsed document (or of its first line). */
function checkHead(document: unknown): void {
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
}

const NAME_END = '":{"version":'
const LOADED_AT = ',"loadedAt":'
const VALUE = ',"value":"'
const TAIL = '}}\n'

/**
 * The entry in one line as this store writes it — `"name":{"version":…,"loadedAt":…,"value":"…"}`
 * — or `undefined` for anything else. A quote inside a JSON string is escaped, so the first
 * `":{"version":` ends the name. The value is checked when it is read.
 */
function readLine(text: string, start: number, end: number): [string, EncodedEntry] | undefined {
  if (text.charCodeAt(start) !== 34 /* " */) return undefined
  const nameEnd = text.indexOf(NAME_END, start)
  if (nameEnd < 0 || nameEnd >= end) return undefined
  const loadedAtAt = text.indexOf(LOADED_AT, nameEnd)
  const valueAt = text.indexOf(VALUE, loadedAtAt)
  if (loadedAtAt < 0 || valueAt < 0 || valueAt >= end || !text.startsWith('"}', end - 2)) return undefined
  const version = Number(text.slice(nameEnd + NAME_END.length, loadedAtAt))
  const loadedAt = Number(text.slice(loadedAtAt + LOADED_AT.length, valueAt))
  if (!isValidHead(version, loadedAt)) return undefined
  const quoted = text.slice(start, nameEnd + 1)
  let name: string
  if (quoted.includes('\\')) {
    try {
      name = JSON.parse(quoted) as string
    } catch {
      return undefined
    }
  } else name = quoted.slice(1, -1)
  return [name, { version, loadedAt, line: text.slice(start, end), used: false }]
}

/**
 * Reads a snapshot laid out as this store writes it (a head line, one line per entry, `}}`),
 * without parsing the values: each entry keeps its line, decoded when read. Returns `undefined`
 * for any other layout (a hand-written or reformatted file), which {@link parseSnapshot} then
 * parses whole.
 */
function readLines(text: string): Map<string, EncodedEntry> | undefined {
  const headEnd = text.indexOf('\n')
  if (headEnd < 0 || !text.endsWith(TAIL)) return undefined
  const head = text.slice(0, headEnd)
  if (!head.endsWith('"entries":{')) return undefined
  let document: unknown
  try {
    document = JSON.parse(`${head}}}`)
  } catch {
    return undefined
  }
  checkHead(document)
  const entries = new Map<string, EncodedEntry>()
  const body = text.length - TAIL.length - 1 // the newline before the tail
  if (text.charCodeAt(body) !== 10) return undefined
  let start = headEnd + 1
  if (start === body) return entries // no entries: an empty line
  while (start < body) {
    let end = text.indexOf('\n', start)
    if (end < 0 || end > body) return undefined
    const last = end === body
    // Every line but the last ends with a comma.
    if (!last && text.charCodeAt(end - 1) !== 44 /* , */) return undefined
    const entry = readLine(text, start, last ? end : end - 1)
    if (entry === undefined) return undefined
    entries.set(entry[0], entry[1])
    start = end + 1
    end = start
  }
  return entries
}

/** Parses a snapshot of any layout as one JSON document, checking every entry. */
function parseWhole(text: string): Map<string, EncodedEntry> {
  const document: unknown = JSON.parse(text)
  checkHead(document)
  const entries = own(document as Record<string, unknown>, 'entries')
  if (!isRecord(entries)) throw new SnapshotFormatError('its "entries" is not an object')
  const result = new Map<string, EncodedEntry>()
  for (const name of Object.keys(entries)) {
    const entry = entries[name]
    if (!isRecord(entry)) throw new SnapshotFormatError(`its entry ${JSON.stringify(name)} is not an object`)
    const version = own(entry, 'version')
    const loadedAt = own(entry, 'loadedAt')
    const data = own(entry, 'value')
    if (!isValidHead(version, loadedAt) || typeof data !== 'string') {
      throw new SnapshotFormatError(
        `its entry ${JSON.stringify(name)} lacks a positive integer "version", a numeric "loadedAt" or a string "value"`,
      )
    }
    result.set(name, encodeEntry(name, version as number, loadedAt as number, data, false))
  }
  return result
}

/**
 * Parses and checks a snapshot. Entries go into a `Map`, so names such as `__proto__` are plain
 * keys. Throws `SyntaxError` for text that is not JSON and {@link SnapshotFormatError} for JSON of
 * the wrong shape or of a newer format.
 */
export function parseSnapshot(text: string): Map<string, EncodedEntry> {
  return readLines(text) ?? parseWhole(text)
}
