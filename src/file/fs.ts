import { promises } from 'node:fs'

/** The few operations on an open file the file store uses; Node's `FileHandle` has them all. */
export interface FileStoreHandle {
  stat(): Promise<{ readonly size: number; readonly mtimeMs?: number; isFile(): boolean }>
  readFile(): Promise<Uint8Array>
  writeFile(data: string): Promise<void>
  sync(): Promise<void>
  close(): Promise<void>
}

/**
 * The file-system seam of the file store: `node:fs/promises` by default. Inject another one to
 * simulate faults (a full disk, a read-only directory) without the real conditions.
 */
export interface FileStoreFs {
  open(path: string, flags: string, mode?: number): Promise<FileStoreHandle>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  mkdir(path: string, options: { recursive: true }): Promise<unknown>
  readdir(path: string): Promise<string[]>
}

/** The real file system. */
export const nodeFs: FileStoreFs = {
  open: (path, flags, mode) => promises.open(path, flags, mode),
  rename: (from, to) => promises.rename(from, to),
  unlink: (path) => promises.unlink(path),
  mkdir: (path, options) => promises.mkdir(path, options),
  readdir: (path) => promises.readdir(path),
}

/** The `code` of a Node system error (`'ENOENT'`...), if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** The whole file at `path` as UTF-8 text. */
export async function readWhole(fs: FileStoreFs, path: string): Promise<string> {
  return (await readWithTime(fs, path)).text
}

/** The whole file at `path` as UTF-8 text, with its modification time when the seam gives it. */
export async function readWithTime(
  fs: FileStoreFs,
  path: string,
): Promise<{ text: string; mtimeMs: number | undefined }> {
  const handle = await fs.open(path, 'r')
  try {
    const { mtimeMs } = await handle.stat()
    return { text: new TextDecoder().decode(await handle.readFile()), mtimeMs }
  } finally {
    await handle.close().catch(() => {})
  }
}
