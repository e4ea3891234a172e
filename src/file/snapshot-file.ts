import { StoreError } from '../core/errors.js'
import { errorCode, type FileStoreFs, type FileStoreHandle } from './fs.js'
import { messageOf } from './reporter.js'
import type { EncodedEntry } from './snapshot.js'
import { SnapshotFormatError } from './snapshot.js'
import { parseSnapshot } from './snapshot-parse.js'

/** What reading a snapshot file needs. */
export interface ReadSettings {
  readonly path: string
  readonly fs: FileStoreFs
  readonly maxBytes: number
}

/** A compact UTC timestamp for file names: `20240102T030405678Z`. */
function fileStamp(): string {
  return new Date().toISOString().replace(/[-:.]/g, '')
}

type TextOutcome =
  | { text: string }
  | { missing: true }
  | { unreadable: string; cause?: unknown }
  | { unusable: string; cause?: unknown }

/** The file's text, or why there is none. The file is closed when this resolves. */
async function readText({ path, fs, maxBytes }: ReadSettings): Promise<TextOutcome> {
  let handle: FileStoreHandle
  try {
    handle = await fs.open(path, 'r')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { missing: true }
    return { unreadable: messageOf(error), cause: error }
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) return { unreadable: 'it is not a regular file' }
    // Checked before reading, so a huge file is never loaded into memory.
    if (stat.size > maxBytes) return { unusable: `it is ${stat.size} bytes, over maxBytes (${maxBytes})` }
    const bytes = await handle.readFile()
    if (bytes.byteLength > maxBytes) {
      return { unusable: `it is ${bytes.byteLength} bytes, over maxBytes (${maxBytes})` }
    }
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) }
    } catch (error) {
      return { unusable: 'it is not UTF-8 text', cause: error }
    }
  } catch (error) {
    return { unreadable: messageOf(error), cause: error }
  } finally {
    await handle.close().catch(() => {})
  }
}

/** Moves an unusable file aside, so a later write cannot destroy it, and reports it. */
async function setAside(
  { path, fs }: ReadSettings,
  why: string,
  cause: unknown,
  report: (error: StoreError) => void,
): Promise<Map<string, EncodedEntry>> {
  const aside = `${path}.corrupt-${fileStamp()}`
  const options = cause === undefined ? {} : { cause }
  try {
    await fs.rename(path, aside)
    report(new StoreError(`ignored ${path}: ${why}; moved it to ${aside}, starting empty`, options))
  } catch (error) {
    report(
      new StoreError(
        `ignored ${path}: ${why}; could not move it aside (${messageOf(error)}), starting empty`,
        options,
      ),
    )
  }
  return new Map()
}

/**
 * Reads the snapshot file. Never rejects: a problem is reported and the store starts empty; an
 * unusable file (truncated, not a snapshot, too large, of a newer format) is moved aside first.
 */
export async function readSnapshotFile(
  settings: ReadSettings,
  report: (error: StoreError) => void,
): Promise<Map<string, EncodedEntry>> {
  const outcome = await readText(settings)
  if ('missing' in outcome) return new Map()
  if ('unreadable' in outcome) {
    const options = 'cause' in outcome ? { cause: outcome.cause } : {}
    report(new StoreError(`could not read ${settings.path}: ${outcome.unreadable}; starting empty`, options))
    return new Map()
  }
  if ('unusable' in outcome) return setAside(settings, outcome.unusable, outcome.cause, report)
  try {
    return parseSnapshot(outcome.text)
  } catch (error) {
    const why =
      error instanceof SnapshotFormatError ? error.message : `it is not valid JSON (${messageOf(error)})`
    return setAside(settings, why, error, report)
  }
}
