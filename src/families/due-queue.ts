/**
 * The refresh times of a family's keys: a binary min-heap of (due time, slot) pairs in two typed
 * arrays, so a million scheduled keys cost 12 bytes each and no object. One scheduler task per
 * family is armed for the earliest entry; a key's own entry is never moved or removed: rescheduling
 * pushes a new one, and an entry whose time no longer equals the key's `nextDueAt` (or whose slot
 * was freed) is skipped when it comes up. {@link compact} drops such stale entries when they pile up.
 */
export class DueQueue {
  #at = new Float64Array(64)
  #slot = new Int32Array(64)
  #size = 0

  get size(): number {
    return this.#size
  }

  /** The earliest due time, or `Infinity` when empty. */
  get nextAt(): number {
    return this.#size === 0 ? Number.POSITIVE_INFINITY : (this.#at[0] as number)
  }

  /** The slot of the earliest entry (valid only when not empty). */
  get nextSlot(): number {
    return this.#slot[0] as number
  }

  push(at: number, slot: number): void {
    if (this.#size === this.#at.length) this.#grow()
    let i = this.#size++
    const ats = this.#at
    const slots = this.#slot
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = ats[parent] as number
      if (p <= at) break
      ats[i] = p
      slots[i] = slots[parent] as number
      i = parent
    }
    ats[i] = at
    slots[i] = slot
  }

  /** Removes the earliest entry. */
  pop(): void {
    const last = --this.#size
    if (last <= 0) return
    const ats = this.#at
    const slots = this.#slot
    const at = ats[last] as number
    const slot = slots[last] as number
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= last) break
      if (child + 1 < last && (ats[child + 1] as number) < (ats[child] as number)) child++
      if ((ats[child] as number) >= at) break
      ats[i] = ats[child] as number
      slots[i] = slots[child] as number
      i = child
    }
    ats[i] = at
    slots[i] = slot
  }

  clear(): void {
    this.#size = 0
    if (this.#at.length > 1024) {
      this.#at = new Float64Array(64)
      this.#slot = new Int32Array(64)
    }
  }

  /** Keeps only the entries `live(at, slot)` accepts (the others are stale), and restores the heap. */
  compact(live: (at: number, slot: number) => boolean): void {
    const ats = this.#at
    const slots = this.#slot
    const entries: [number, number][] = []
    for (let i = 0; i < this.#size; i++) {
      const at = ats[i] as number
      const slot = slots[i] as number
      if (live(at, slot)) entries.push([at, slot])
    }
    this.#size = 0
    for (const [at, slot] of entries) this.push(at, slot)
  }

  /** Bytes of the arrays. */
  get bytes(): number {
    return this.#at.length * 12
  }

  #grow(): void {
    const at = new Float64Array(this.#at.length * 2)
    at.set(this.#at)
    const slot = new Int32Array(this.#slot.length * 2)
    slot.set(this.#slot)
    this.#at = at
    this.#slot = slot
  }
}
