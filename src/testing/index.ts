export type { ConformanceFramework, StoreFactory } from './store-conformance.js'
export { storeConformance } from './store-conformance.js'
