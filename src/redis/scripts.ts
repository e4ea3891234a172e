// Lua scripts run atomically by Redis. Each touches the keys of one resource only; the keys share a
// hash tag (the resource's name), so they work on Redis Cluster too.
import { createHash } from 'node:crypto'
import type { RedisClient } from './options.js'

//
// Every key may hold anything (a restore, a hand-made key, another program): a version is an
// integer in [0, 2^53) written in decimal digits (an entry's is at least 1, with a load time that
// is a number in the range of a Date), and anything else is corrupt. A corrupt entry or
// token counter counts as absent, so the next fenced write or lease repairs it; it never blocks one.

/** Helpers shared by the scripts (prepended to each). */
const PRELUDE = `
local function version(text)
  if type(text) ~= 'string' or #text == 0 or #text > 16 or not string.find(text, '^%d+$') then
    return nil
  end
  local n = tonumber(text)
  if n >= 9007199254740992 then return nil end
  return n
end
local function kind(key)
  return redis.call('TYPE', key)['ok']
end
local function time(text)
  if type(text) ~= 'string' or #text == 0 or #text > 24 then return nil end
  local t = tonumber(text)
  if t == nil or t ~= t or t < -8.64e15 or t > 8.64e15 then return nil end
  return t
end
-- The version of an entry: 0 when there is none; 0 and true when it is corrupt.
local function stored(key)
  local k = kind(key)
  if k == 'none' then return 0, false end
  if k ~= 'hash' then return 0, true end
  local f = redis.call('HMGET', key, 'version', 'loadedAt')
  local n = version(f[1])
  if n == nil or n == 0 or time(f[2]) == nil then return 0, true end
  return n, false
end
local function digits(n)
  return string.format('%.0f', n)
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

/**
 * Takes the lease of a resource if it is free and the caller has seen the stored version (a
 * version above `floor` means another replica refreshed since the caller looked: it should adopt
 * that value, not load again). The fencing token is one above the highest of the
 * token counter, the stored version and the caller's floor — so tokens only go up, even after Redis
 * lost its data (the replicas still remember the versions they saw). A lease key without expiry
 * (a restore that dropped TTLs) is given one of `ttl`: it is broken after one lease TTL.
 * KEYS: lease, fence, value. ARGV: owner, ttl ms, floor.
 * Returns [1, token], [0, pttl] (taken), [0, 0] (a newer version is stored) or [0, ttl, 1] (a
 * lease without expiry was found, and now expires).
 */
const ACQUIRE_LUA = `${PRELUDE}
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {0, tonumber(ARGV[2]), 1}
end
if pttl ~= -2 then
  return {0, pttl}
end
local version_now = stored(KEYS[3])
local floor = version(ARGV[3]) or 0
if version_now > floor then
  return {0, 0}
end
local counter = 0
if kind(KEYS[2]) == 'string' then counter = version(redis.call('GET', KEYS[2])) or 0 end
local token = math.max(counter, version_now, floor) + 1
redis.call('SET', KEYS[2], digits(token))
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. digits(token), 'PX', ARGV[2])
return {1, token}
`

/** Extends a lease held by this owner. KEYS: lease. ARGV: owner:token, ttl ms. Returns 1 or 0. */
const RENEW_LUA = `
if redis.call('TYPE', KEYS[1])['ok'] == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`

/** Deletes a lease held by this owner. KEYS: lease. ARGV: owner:token. Returns 1 or 0. */
const RELEASE_LUA = `
if redis.call('TYPE', KEYS[1])['ok'] == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

/**
 * Deletes a lease held by this owner under any token: the hand-back after an `ACQUIRE` whose reply
 * never came (the owner names that one attempt). KEYS: lease. ARGV: owner. Returns 1 or 0.
 */
const RELEASE_OWNED_LUA = `
if redis.call('TYPE', KEYS[1])['ok'] ~= 'string' then return 0 end
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then
  return redis.call('DEL', KEYS[1])
end
return 0
`

/**
 * The fenced write: accepted only when the version is newer than the stored one (a corrupt entry
 * counts as none, and is replaced whole); then announced. The entry also gets `stamp`: the load time
 * on the server's clock (its `TIME` less the writer's own measure of the value's age), so replicas
 * with skewed clocks agree on ages.
 * KEYS: value. ARGV: version, loadedAt, payload, channel, message, age ms, schema version ('' for none).
 * Returns 1 (written) or 0 (refused).
 */
const WRITE_LUA = `${PRELUDE}
local version_now, corrupt = stored(KEYS[1])
local incoming = version(ARGV[1])
if incoming == nil or incoming <= version_now then
  return 0
end
if corrupt then redis.call('DEL', KEYS[1]) end
local stamp = now() - (tonumber(ARGV[6]) or 0)
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'loadedAt', ARGV[2], 'stamp', digits(stamp), 'value', ARGV[3])
if ARGV[7] ~= nil and ARGV[7] ~= '' then
  redis.call('HSET', KEYS[1], 'schema', ARGV[7])
else
  redis.call('HDEL', KEYS[1], 'schema')
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`

/**
 * Reads an entry with the server's time, and its value only if asked and not larger than the cap.
 * KEYS: value. ARGV: '1' to read the value, largest value in bytes (-1: no cap).
 * Returns [0, now] (none), [2, now, type] (a key of another type), or
 * [1, now, version, loadedAt, stamp, size, value or nil, schema version or nil].
 */
const READ_LUA = `${PRELUDE}
local t = now()
local k = kind(KEYS[1])
if k == 'none' then return {0, t} end
if k ~= 'hash' then return {2, t, k} end
local f = redis.call('HMGET', KEYS[1], 'version', 'loadedAt', 'stamp', 'schema')
local size = redis.call('HSTRLEN', KEYS[1], 'value')
local value = false
local cap = tonumber(ARGV[2])
if ARGV[1] == '1' and (cap < 0 or size <= cap) then value = redis.call('HGET', KEYS[1], 'value') end
return {1, t, f[1], f[2], f[3], size, value, f[4]}
`

/**
 * The next fencing token without the lease (a value pushed by `set()`): one above the highest of the
 * token counter, the stored version and the caller's floor, and the counter set to it, so a load begun
 * under an earlier token can no longer write over it.
 * KEYS: fence, value. ARGV: floor. Returns the token.
 */
const TOKEN_LUA = `${PRELUDE}
local version_now = stored(KEYS[2])
local floor = version(ARGV[1]) or 0
local counter = 0
if kind(KEYS[1]) == 'string' then counter = version(redis.call('GET', KEYS[1])) or 0 end
local token = math.max(counter, version_now, floor) + 1
redis.call('SET', KEYS[1], digits(token))
return token
`

/**
 * A script sent by its SHA-1 (`EVALSHA`), and in full only when the server does not have it yet
 * (`NOSCRIPT`: first use, a restarted server, another Cluster node): a check sends a few bytes, not
 * the whole script.
 */
export class LuaScript {
  readonly #lua: string
  readonly #sha: string

  constructor(lua: string) {
    this.#lua = lua
    this.#sha = createHash('sha1').update(lua).digest('hex')
  }

  run(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return client.evalsha(this.#sha, keys.length, ...keys, ...args).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return client.eval(this.#lua, keys.length, ...keys, ...args)
    })
  }
}

export const ACQUIRE = new LuaScript(ACQUIRE_LUA)
export const RENEW = new LuaScript(RENEW_LUA)
export const RELEASE = new LuaScript(RELEASE_LUA)
export const RELEASE_OWNED = new LuaScript(RELEASE_OWNED_LUA)
export const WRITE = new LuaScript(WRITE_LUA)
export const READ = new LuaScript(READ_LUA)
export const TOKEN = new LuaScript(TOKEN_LUA)
