export type { RedisClient, RedisStoreOptions } from './options.js'
export { redisStore } from './redis-store.js'
