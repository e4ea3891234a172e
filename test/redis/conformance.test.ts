import { describe, it } from 'vitest'
import { storeConformance } from '../../src/testing/index.js'
import { useRedis } from './helpers.js'

const redis = useRedis()

storeConformance('redisStore({ client })', () => redis.store({ via: 'client' }), { describe, it })

storeConformance('redisStore({ url })', () => redis.store({ via: 'url' }), { describe, it })
