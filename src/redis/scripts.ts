// Lua scripts run atomically by Redis. Each touches the keys of one resource only; the keys share a
// hash tag (the resource's name), so they work on Redis Cluster too.

/**
 * Takes the lease of a resource if it is free and the caller has seen the stored version (a
 * version above `floor` means another replica refreshed since the caller looked: it should adopt
 * that value, not load again). The fencing token is one above the highest of the
 * token counter, the stored version and the caller's floor — so tokens only go up, even after Redis
 * lost its data (the replicas still remember the versions they saw).
 * KEYS: lease, fence, value. ARGV: owner, ttl ms, floor. Returns [1, token] or [0, pttl].
 */
export const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('PTTL', KEYS[1])}
end
local stored = tonumber(redis.call('HGET', KEYS[3], 'version') or '0') or 0
local floor = tonumber(ARGV[3]) or 0
if stored > floor then
  return {0, 0}
end
local counter = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local token = math.max(counter, stored, floor) + 1
redis.call('SET', KEYS[2], token)
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return {1, token}
`

/** Extends a lease held by this owner. KEYS: lease. ARGV: owner:token, ttl ms. Returns 1 or 0. */
export const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`

/** Deletes a lease held by this owner. KEYS: lease. ARGV: owner:token. Returns 1 or 0. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

/**
 * Deletes a lease held by this owner under any token: the hand-back after an `ACQUIRE` whose reply
 * never came (the owner names that one attempt). KEYS: lease. ARGV: owner. Returns 1 or 0.
 */
export const RELEASE_OWNED = `
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then
  return redis.call('DEL', KEYS[1])
end
return 0
`

/**
 * The fenced write: accepted only when the version is newer than the stored one; then announced.
 * KEYS: value. ARGV: version, loadedAt, payload, channel, message. Returns 1 (written) or 0 (refused).
 */
export const WRITE = `
local stored = tonumber(redis.call('HGET', KEYS[1], 'version') or '0') or 0
if tonumber(ARGV[1]) <= stored then
  return 0
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'loadedAt', ARGV[2], 'value', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`
