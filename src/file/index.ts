export type { FileStoreOptions } from './file-store.js'
export { FILE_STORE_DEFAULTS, fileStore } from './file-store.js'
export type { FileStoreFs, FileStoreHandle } from './fs.js'
export { SNAPSHOT_FORMAT, SNAPSHOT_KIND } from './snapshot.js'
