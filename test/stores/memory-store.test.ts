import { describe, it } from 'vitest'
import { memoryStore } from '../../src/index.js'
import { storeConformance } from '../../src/testing/index.js'

storeConformance('memoryStore', () => memoryStore(), { describe, it })
