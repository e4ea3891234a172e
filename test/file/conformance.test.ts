import { join } from 'node:path'
import { describe, it } from 'vitest'
import { fileStore } from '../../src/file/index.js'
import { storeConformance } from '../../src/testing/index.js'
import { tempDir } from './helpers.js'

storeConformance('fileStore', () => fileStore({ path: join(tempDir(), 'snapshot.json'), writeDelay: 0 }), {
  describe,
  it,
})

storeConformance(
  'fileStore with a write delay',
  () => fileStore({ path: join(tempDir(), 'nested', 'dir', 'snapshot.json'), writeDelay: 5 }),
  { describe, it },
)
