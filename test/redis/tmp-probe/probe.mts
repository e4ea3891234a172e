import { startRedis } from '../redis-server.js'
import { redisStore } from '../../../src/redis/index.js'
const server = await startRedis()
console.log('port', server.port, await server.command('PING'))
const store = redisStore({ url: server.url, prefix: 'p1' })
const errors: unknown[] = []
store.attach?.({ reportError: (e) => errors.push(String(e)) })
try { console.log('set', await store.set('a', { value: 1, version: 1, loadedAt: 1 })) } catch (e) { console.log('set failed', String(e)) }
const got: unknown[] = []
store.fleet.watch((n, v) => got.push([n, v]))
await new Promise((r) => setTimeout(r, 300))
console.log('set2', await store.set('a', { value: 2, version: 2, loadedAt: 2 }))
await new Promise((r) => setTimeout(r, 200))
console.log('got', got, errors)
await store.close()
await server.stop()
