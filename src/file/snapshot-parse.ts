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

/**
 * One entry line as this store writes it: a JSON string (the name), `:{"version":…,"loadedAt":…,
 * "value":…}` with the value a JSON string, then `,` unless it is the last, and a newline. Checked
 * by shape only; the value's escapes are checked when it is read.
 */
const LINE =
  /("(?:[^"\\\n]|\\.)*"):\{"version":(\d{1,16}),"loadedAt":(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?),"value":"(?:[^"\\\n]|\\.)*"\}(,?)\n/y

const TAIL = '}}\n'

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
  const end = text.length - TAIL.length
  let at = headEnd + 1
  // No entries: the head line, an empty line, the tail.
  if (at === end - 1 && text[at] === '\n') return entries
  LINE.lastIndex = at
  let last = false
  while (at < end) {
    if (last) return undefined
    const match = LINE.exec(text)
    if (match === null) return undefined
    const [whole, quoted = '', version = '', loadedAt = '', comma] = match
    const name = quoted.includes('\\') ? (JSON.parse(quoted) as string) : quoted.slice(1, -1)
    const line = text.slice(at, at + whole.length - 1 - (comma === ',' ? 1 : 0))
    const head = { version: Number(version), loadedAt: Number(loadedAt) }
    if (!isValidHead(head.version, head.loadedAt)) return undefined
    entries.set(name, { version: head.version, loadedAt: head.loadedAt, line, used: false })
    last = comma !== ','
    at += whole.length
  }
  return last ? entries : undefined
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
