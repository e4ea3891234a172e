import { basename, dirname, join } from 'node:path'
import type { FileStoreFs, FileStoreHandle } from './fs.js'

const TEMP_MARK = '.tmp-'
let counter = 0

/**
 * A temp file name next to `path`: `<name>.tmp-<tag>-<n>`, where `tag` is the writer's lock token.
 * A temp file whose tag is not the lock holder's is a leftover of a killed writer, whatever its PID.
 */
function tempPath(path: string, tag: string): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `${path}${TEMP_MARK}${tag}-${counter.toString(36)}`
}

/**
 * Replaces the file at `path` with `data` through a temp file and a rename, so that a reader sees
 * the old or the new file, never a mix. With `durable`, the temp file is fsynced before the rename
 * and the directory after it, so a crash or power cut at any moment leaves one complete file.
 * Creates the directory if missing. On failure the temp file is removed and the error rethrown.
 */
async function replace(
  fs: FileStoreFs,
  path: string,
  data: string,
  options: { mode: number; tag: string; durable: boolean },
): Promise<void> {
  const dir = dirname(path)
  await fs.mkdir(dir, { recursive: true })
  const temp = tempPath(path, options.tag)
  let handle: FileStoreHandle | undefined
  try {
    handle = await fs.open(temp, 'wx', options.mode)
    await handle.writeFile(data)
    if (options.durable) await handle.sync()
    const open = handle
    handle = undefined
    await open.close()
    await fs.rename(temp, path)
  } catch (error) {
    await handle?.close().catch(() => {})
    await fs.unlink(temp).catch(() => {})
    throw error
  }
  if (options.durable) await syncDirectory(fs, dir)
}

/** Replaces `path` atomically and durably: temp file, fsync, rename, fsync of the directory. */
export function writeAtomic(fs: FileStoreFs, path: string, data: string, mode: number, tag: string) {
  return replace(fs, path, data, { mode, tag, durable: true })
}

/** Replaces `path` atomically, without the cost of making it durable (for the lock file). */
export function replaceFile(fs: FileStoreFs, path: string, data: string, mode: number, tag: string) {
  return replace(fs, path, data, { mode, tag, durable: false })
}

/** Makes a rename in `dir` durable. Windows cannot open a directory, and needs no such step. */
async function syncDirectory(fs: FileStoreFs, dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const handle = await fs.open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Removes the temp files of `path` not tagged `tag`: called by the holder of the file's lock, the
 * one writer, every other temp file is a leftover of a writer that was killed. Best effort: every
 * failure is ignored.
 */
export async function removeLeftoverTemps(fs: FileStoreFs, path: string, tag: string): Promise<void> {
  const prefix = basename(path) + TEMP_MARK
  const ours = `${prefix}${tag}-`
  let names: string[]
  try {
    names = await fs.readdir(dirname(path))
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || name.startsWith(ours)) continue
    await fs.unlink(join(dirname(path), name)).catch(() => {})
  }
}
