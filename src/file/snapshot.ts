/**
 * The on-disk format of the file store (see docs/file-store.md): one JSON document holding every
 * entry, each value already serialised to a string, one entry per line.
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

/**
 * One resource's entry as held in memory and on disk. `line` is its member of the snapshot's
 * `entries` (`"name":{...}`), written as is; the value is decoded from it only when read.
 */
export interface EncodedEntry {
  readonly version: number
  readonly loadedAt: number
  readonly line: string
  /** Whether this process has read or written the entry since it read the file (else it may be an orphan). */
  used: boolean
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
export function isValidHead(version: unknown, loadedAt: unknown): boolean {
  return (
    typeof version === 'number' &&
    Number.isSafeInteger(version) &&
    version > 0 &&
    typeof loadedAt === 'number' &&
    Number.isFinite(loadedAt)
  )
}

/** The entry of `name` whose value serialised to `data`. */
export function encodeEntry(
  name: string,
  version: number,
  loadedAt: number,
  data: string,
  used: boolean,
): EncodedEntry {
  const line = `${JSON.stringify(name)}:{"version":${version},"loadedAt":${loadedAt},"value":${JSON.stringify(data)}}`
  return { version, loadedAt, line, used }
}

/** The value's text (as `serialize` made it) held in an entry's line. */
export function entryData(entry: EncodedEntry): string {
  // Neither a name's JSON string nor the head can contain `,"value":` (a quote in a JSON string is
  // escaped), so the first one starts the value.
  const at = entry.line.indexOf(',"value":')
  return JSON.parse(entry.line.slice(at + 9, -1)) as string
}

/** The first line of a snapshot, up to and including the opening of `entries`. */
export function snapshotHead(savedAt: number): string {
  return `{"kind":${JSON.stringify(SNAPSHOT_KIND)},"format":${SNAPSHOT_FORMAT},"savedAt":${savedAt},"entries":{`
}

/** Bytes a snapshot takes besides its entries' lines and their separators. */
export const SNAPSHOT_OVERHEAD = Buffer.byteLength(snapshotHead(Number.MAX_SAFE_INTEGER)) + 5

/** The whole snapshot text for `entries`. */
export function encodeSnapshot(entries: Iterable<EncodedEntry>, savedAt: number): string {
  const lines: string[] = []
  for (const entry of entries) lines.push(entry.line)
  return `${snapshotHead(savedAt)}\n${lines.join(',\n')}\n}}\n`
}
