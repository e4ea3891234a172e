import type { StoreError } from '../core/errors.js'
import type { Clock } from '../scheduling/clock.js'
import type { FleetStore, StoreContext } from '../stores/store.js'
import { RedisConnection } from './connection.js'
import { type RedisStoreOptions, resolveRedisOptions } from './options.js'
import { RedisFleet } from './redis-fleet.js'
import { type RedisEnv, RedisValueStore } from './value-store.js'

export type { RedisClient, RedisStoreOptions } from './options.js'

/**
 * A store on Redis, shared by every replica: values, versions and load times under `prefix`, fenced
 * writes, refresh leases and change notifications (fleet mode). Options are checked at once: a
 * missing `prefix`, an unknown option or a wrong type throws `OptionTypeError`/`OptionRangeError`.
 *
 * ```ts
 * import { redisStore } from 'evergreen-cache/redis'
 * const resources = new Resources({ interval: '10s', store: redisStore({ client, prefix: 'myapp' }) })
 * ```
 */
export function redisStore(options: RedisStoreOptions): FleetStore {
  const settings = resolveRedisOptions(options)
  let contexts: readonly StoreContext[] = []
  let clock: Clock | undefined
  const report = (error: StoreError, resource?: string) => {
    for (const context of contexts) context.reportError(error, resource)
  }
  const connection = new RedisConnection(settings, report)
  const env: RedisEnv = {
    connection,
    settings,
    // The first registry's clock, so load times and ages are on the registry's timeline.
    now: () => (clock === undefined ? Date.now() : clock.now()),
    report,
  }
  const values = new RedisValueStore(env)
  const fleet = new RedisFleet(env, values)
  return {
    fleet,
    codec: { encode: settings.serialize, decode: settings.deserialize },
    attach(context) {
      contexts = [...contexts, context]
      clock ??= context.clock
    },
    get: (name) => values.get(name),
    set: (name, entry) => values.set(name, entry),
    delete: (name) => values.delete(name),
    list: () => values.list(),
    async close() {
      fleet.clear()
      await connection.close()
    },
    reopen() {
      connection.reopen()
    },
  }
}
