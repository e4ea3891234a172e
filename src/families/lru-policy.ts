import type { EvictionBounds, EvictionPolicy } from './eviction-policy.js'
import { NO_LIST, SlotLists } from './slot-lists.js'

const MAIN = 0
const FIRST = 1

/**
 * Least recently used: evicts the key read or added longest ago. Keys marked failed or idle go
 * before any other. The baseline the frequency-aware policy is measured against.
 */
export class LruPolicy implements EvictionPolicy {
  readonly #lists: SlotLists
  readonly #maxKeys: number
  readonly #maxSize: number

  constructor(bounds: EvictionBounds, capacity: number) {
    this.#maxKeys = bounds.maxKeys
    this.#maxSize = bounds.maxSize ?? Number.POSITIVE_INFINITY
    this.#lists = new SlotLists(2, capacity, bounds.maxSize !== undefined)
  }

  get size(): number {
    return this.#lists.count(MAIN) + this.#lists.count(FIRST)
  }

  get weight(): number {
    return this.#lists.weightOf(MAIN) + this.#lists.weightOf(FIRST)
  }

  bytes(capacity: number): number {
    return capacity * this.#lists.bytesPerSlot
  }

  grow(capacity: number): void {
    this.#lists.grow(capacity)
  }

  add(slot: number, _key: string, weight: number): void {
    this.#lists.setWeight(slot, weight)
    this.#lists.append(MAIN, slot)
  }

  hit(slot: number): void {
    this.#lists.moveTo(this.#lists.listOf(slot), slot)
  }

  miss(_key: string): void {}

  reweigh(slot: number, weight: number): void {
    this.#lists.setWeight(slot, weight)
  }

  remove(slot: number): void {
    this.#lists.unlink(slot)
  }

  setEvictFirst(slot: number, yes: boolean): void {
    const list = this.#lists.listOf(slot)
    if (list === NO_LIST || (list === FIRST) === yes) return
    this.#lists.moveTo(yes ? FIRST : MAIN, slot)
  }

  isEvictFirst(slot: number): boolean {
    return this.#lists.listOf(slot) === FIRST
  }

  overBound(): boolean {
    return this.size > this.#maxKeys || this.weight > this.#maxSize
  }

  evict(): number {
    let slot = this.#lists.head(FIRST)
    if (slot === -1) slot = this.#lists.head(MAIN)
    if (slot !== -1) this.#lists.unlink(slot)
    return slot
  }
}
