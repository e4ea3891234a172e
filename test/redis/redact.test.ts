// The redaction of what the Redis store hands out, on its own: errors shaped like ioredis's, and
// values that cannot be inspected.
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { optionSecrets, Redactor, urlSecrets } from '../../src/redis/redact.js'

const PASSWORD = 'p@ss:w/rd s3cr3t'

describe('Redactor', () => {
  const redactor = new Redactor([...urlSecrets(`redis://user:${encodeURIComponent(PASSWORD)}@host`)])

  it('finds the password of a URL, as written and decoded, and of ioredis options', () => {
    expect(urlSecrets(`redis://user:${encodeURIComponent(PASSWORD)}@host`)).toContain(PASSWORD)
    expect(urlSecrets('redis://host')).toEqual([])
    expect(urlSecrets('not a url')).toEqual([])
    expect(optionSecrets({ password: 'a', sentinelPassword: 'b', redisOptions: { password: 'c' } })).toEqual([
      'a',
      'b',
      'c',
    ])
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap')
        },
      },
    )
    expect(optionSecrets(hostile)).toEqual([])
  })

  it('masks passwords (plain and URL-encoded) and any URL user-info in text', () => {
    expect(redactor.text(`AUTH ${PASSWORD} failed`)).toBe('AUTH *** failed')
    expect(redactor.text(`at redis://user:${encodeURIComponent(PASSWORD)}@host:1`)).toBe(
      'at redis://***@host:1',
    )
    expect(redactor.text('rediss://other:pw@elsewhere')).toBe('rediss://***@elsewhere')
  })

  it('copies an ioredis-like error without its command, its password or its other properties', () => {
    const reply = Object.assign(new Error(`WRONGPASS for ${PASSWORD}`), {
      name: 'ReplyError',
      command: { name: 'auth', args: ['user', PASSWORD] },
      code: 'WRONGPASS',
      address: '10.0.0.1',
    })
    const wrapped = new Error('outer', { cause: reply })
    const copy = redactor.error(wrapped)
    const text = `${inspect(copy, { depth: Number.POSITIVE_INFINITY, showHidden: true })}${JSON.stringify(copy.cause)}`
    expect(text).not.toContain(PASSWORD)
    expect(text).not.toContain('command')
    expect(text).not.toContain('10.0.0.1')
    expect(copy.cause).toMatchObject({ name: 'ReplyError', code: 'WRONGPASS', message: 'WRONGPASS for ***' })
  })

  it('bounds what it keeps of a long message', () => {
    const copy = redactor.error(new Error('x'.repeat(1_000_000)))
    expect(copy.message.length).toBeLessThanOrEqual(500)
    expect(copy.stack!.length).toBeLessThanOrEqual(4_000)
  })

  it('describes values that cannot be inspected without throwing', () => {
    const trap = () => {
      throw new Error('trap')
    }
    const hostile = new Proxy({}, { getPrototypeOf: trap, get: trap, ownKeys: trap })
    expect(redactor.error(hostile)).toBeInstanceOf(Error)
    const getters = Object.defineProperty(new Error('x'), 'message', { get: trap })
    expect(redactor.error(getters).message).toBe('unknown error')
    expect(redactor.error(`plain ${PASSWORD}`).message).toBe('plain ***')
    expect(redactor.error(42).message).toBe('42')
    expect(redactor.received(new URL(`redis://u:pw@host`))).toBe('redis://***@host')
  })
})
