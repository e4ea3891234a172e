import { type EncodedEntry, encodeSnapshot, SNAPSHOT_OVERHEAD } from './snapshot.js'

/** The text of the next snapshot, and the changes left out of it for size. */
export interface WritePlan {
  readonly text: string
  /** Per resource whose change was left out (its previous entry kept): its entry's size in bytes. */
  readonly refused: ReadonlyMap<string, number>
  /** The size the snapshot would have had with every change. */
  readonly wanted: number
}

const bytes = (line: string) => Buffer.byteLength(line) + 2 // with its `,\n`

/**
 * Plans a snapshot of `entries` within `maxBytes`. Orphans — entries this process has neither read
 * nor written, loaded before `orphansBefore` — are dropped from `entries`. If the snapshot would
 * exceed `maxBytes`, the largest of the changes since the last write (`previous` holds each changed
 * name's entry before the change) are undone one by one, in `entries` too, until it fits.
 */
export function planWrite(
  entries: Map<string, EncodedEntry>,
  previous: Map<string, EncodedEntry | undefined>,
  maxBytes: number,
  orphansBefore: number,
  savedAt: number,
): WritePlan {
  let size = SNAPSHOT_OVERHEAD
  for (const [name, entry] of entries) {
    if (!entry.used && entry.loadedAt < orphansBefore) entries.delete(name)
    else size += bytes(entry.line)
  }
  const wanted = size
  const refused = new Map<string, number>()
  if (size > maxBytes) {
    const changed = [...previous.keys()]
      .map((name) => ({ name, entry: entries.get(name) }))
      .filter((c): c is { name: string; entry: EncodedEntry } => c.entry !== undefined)
      .map((c) => ({ ...c, size: bytes(c.entry.line) }))
      .sort((a, b) => b.size - a.size)
    for (const change of changed) {
      if (size <= maxBytes) break
      const before = previous.get(change.name)
      if (before === undefined) entries.delete(change.name)
      else entries.set(change.name, before)
      previous.delete(change.name)
      size -= change.size - (before === undefined ? 0 : bytes(before.line))
      refused.set(change.name, change.size)
    }
  }
  return { text: encodeSnapshot(entries.values(), savedAt), refused, wanted }
}
