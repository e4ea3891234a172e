import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'
import { errorCode, type FileStoreFs, type FileStoreHandle } from './fs.js'

const TEMP_MARK = '.tmp-'

/** A temp file name next to `path`, unique to this process and call: `<name>.tmp-<pid>-<random>`. */
function tempPath(path: string): string {
  return `${path}${TEMP_MARK}${process.pid}-${randomBytes(6).toString('hex')}`
}

/**
 * Replaces the file at `path` with `data` so that a crash at any moment leaves either the old or the
 * new complete file: write a unique temp file in the same directory, fsync it, rename it over
 * `path`, then fsync the directory so the rename itself is durable. Creates the directory if
 * missing. On failure the temp file is removed and the error rethrown; `path` is untouched.
 */
export async function writeAtomic(fs: FileStoreFs, path: string, data: string, mode: number): Promise<void> {
  const dir = dirname(path)
  await fs.mkdir(dir, { recursive: true })
  const temp = tempPath(path)
  let handle: FileStoreHandle | undefined
  try {
    handle = await fs.open(temp, 'wx', mode)
    await handle.writeFile(data)
    await handle.sync()
    const open = handle
    handle = undefined
    await open.close()
    await fs.rename(temp, path)
  } catch (error) {
    await handle?.close().catch(() => {})
    await fs.unlink(temp).catch(() => {})
    throw error
  }
  await syncDirectory(fs, dir)
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
 * Removes temp files that writers of `path` left behind when they were killed mid-write: those
 * named after a process that no longer runs. Best effort: every failure is ignored.
 */
export async function removeOrphanTemps(fs: FileStoreFs, path: string): Promise<void> {
  const prefix = basename(path) + TEMP_MARK
  let names: string[]
  try {
    names = await fs.readdir(dirname(path))
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(name.slice(prefix.length).split('-', 1)[0])
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue
    await fs.unlink(join(dirname(path), name)).catch(() => {})
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, under another user.
    return errorCode(error) === 'EPERM'
  }
}
