import { StoreError } from '../core/errors.js'

/**
 * A file store cannot write its file: another store holds it — in this process (then `fileStore()`
 * throws this), or in another process, whose lock file names it (then writes are refused with this
 * until that lock is released or goes stale). `code` is `E_STORE`.
 */
export class FileLockError extends StoreError {
  override name = 'FileLockError'
  /** The snapshot file. */
  readonly path: string
  /** Who holds it, as its lock file says (`pid 12 on host web-1`), when known. */
  readonly holder: string | undefined

  constructor(message: string, path: string, holder?: string, resource?: string) {
    super(message, { resource })
    this.path = path
    this.holder = holder
  }
}
