import { describe, expect, it } from 'vitest'
import { FrequencySketch } from '../../src/families/frequency-sketch.js'
import { keyHash } from '../../src/families/key-hash.js'

describe('FrequencySketch', () => {
  it('never estimates below the true count (up to 15) before counters age', () => {
    const sketch = new FrequencySketch(1_024)
    const counts = new Map<string, number>()
    // 2,000 increments stay far below the aging period (10 per word of 1,024 words).
    for (let i = 0; i < 2_000; i++) {
      const key = `key-${(i * 7919) % 300}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
      sketch.increment(keyHash(key))
    }
    for (const [key, count] of counts)
      expect(sketch.frequency(keyHash(key))).toBeGreaterThanOrEqual(Math.min(15, count))
  })

  it('caps counts at 15', () => {
    const sketch = new FrequencySketch(64)
    for (let i = 0; i < 100; i++) sketch.increment(keyHash('hot'))
    expect(sketch.frequency(keyHash('hot'))).toBe(15)
  })

  it('halves every count once per aging period, so old popularity fades', () => {
    const sketch = new FrequencySketch(8)
    const hot = keyHash('hot')
    for (let i = 0; i < 12; i++) sketch.increment(hot)
    expect(sketch.frequency(hot)).toBe(12)
    // 80 increments (10 per word) age the sketch; the other keys supply them.
    for (let i = 0; sketch.frequency(hot) === 12 && i < 1_000; i++) sketch.increment(keyHash(`other-${i}`))
    expect(sketch.frequency(hot)).toBe(6)
  })

  it('does not mistake a key never seen for a popular one in a sketch with room', () => {
    const sketch = new FrequencySketch(4_096)
    for (let i = 0; i < 5; i++) sketch.increment(keyHash('seen'))
    expect(sketch.frequency(keyHash('never seen'))).toBe(0)
  })
})
