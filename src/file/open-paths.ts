import { resolve } from 'node:path'
import { FileLockError } from './file-lock-error.js'

/** Snapshot files (as absolute paths) held by an open file store of this process. */
const open = new Map<string, object>()

/**
 * Marks the file at `path` as held by `store`, or throws a {@link FileLockError} when another open
 * store of this process holds it: two stores on one file would overwrite each other's entries.
 */
export function claimPath(path: string, store: object): void {
  const key = resolve(path)
  const holder = open.get(key)
  if (holder !== undefined && holder !== store) {
    throw new FileLockError(
      `${path} is already used by another open file store of this process; close it first, or share that store`,
      path,
      'this process',
    )
  }
  open.set(key, store)
}

/** `store` no longer holds the file at `path`. */
export function releasePath(path: string, store: object): void {
  const key = resolve(path)
  if (open.get(key) === store) open.delete(key)
}
