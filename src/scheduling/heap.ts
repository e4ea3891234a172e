/** An entry the {@link MinHeap} can hold: ordered by `at`, then by `seq`. */
export interface HeapEntry {
  at: number
  seq: number
  /** The heap's handle on the entry while it is in the heap, -1 otherwise. Kept by the heap. */
  slot: number
}

/** Children per node: a 4-ary heap is half as deep as a binary one, and a node's children are adjacent. */
const ARITY = 4

/**
 * A 4-ary min-heap whose entries can be removed or moved in O(log n) without a search. Entries are
 * the callers' own objects, and a sift never touches them: keys, and the position of each entry,
 * live in typed arrays. With 100,000 entries spread over the heap in random order, writing each
 * moved entry's position into the entry itself cost a cache miss per level; now a sift reads and
 * writes a few adjacent numbers. An entry has a slot only while it is in the heap, so slots never
 * leak and the arrays stay as large as the heap has ever been.
 */
export class MinHeap<E extends HeapEntry> {
  readonly #items: E[] = []
  // By position in the heap: the keys and the slot of the entry there.
  #at = new Float64Array(64)
  #seq = new Float64Array(64)
  #slotAt = new Int32Array(64)
  // By slot: the entry's position in the heap.
  #position = new Int32Array(64)
  readonly #freeSlots: number[] = []
  #slots = 0

  get size(): number {
    return this.#items.length
  }

  peek(): E | undefined {
    return this.#items[0]
  }

  /** Adds `entry`, which must not be in the heap. */
  push(entry: E): void {
    const i = this.#items.length
    if (i === this.#at.length) this.#growPositions()
    const slot = this.#freeSlots.pop() ?? this.#newSlot()
    entry.slot = slot
    this.#items.push(entry)
    this.#up(i, entry, slot)
  }

  remove(entry: E): void {
    const slot = entry.slot
    if (slot < 0) return
    const i = this.#position[slot]!
    const items = this.#items
    if (items[i] !== entry) return
    entry.slot = -1
    this.#freeSlots.push(slot)
    const last = items.pop()!
    if (last === entry) return
    this.#sift(i, last, this.#slotAt[items.length]!)
  }

  /** Restores the order after the key of `entry`, already in the heap, changed. */
  update(entry: E): void {
    const slot = entry.slot
    if (slot < 0) return
    const i = this.#position[slot]!
    if (this.#items[i] !== entry) return
    this.#sift(i, entry, slot)
  }

  clear(): void {
    for (const entry of this.#items) entry.slot = -1
    this.#items.length = 0
    this.#freeSlots.length = 0
    this.#slots = 0
  }

  #newSlot(): number {
    if (this.#slots === this.#position.length) {
      const position = new Int32Array(this.#position.length * 2)
      position.set(this.#position)
      this.#position = position
    }
    return this.#slots++
  }

  #growPositions(): void {
    const n = this.#at.length * 2
    const at = new Float64Array(n)
    const seq = new Float64Array(n)
    const slotAt = new Int32Array(n)
    at.set(this.#at)
    seq.set(this.#seq)
    slotAt.set(this.#slotAt)
    this.#at = at
    this.#seq = seq
    this.#slotAt = slotAt
  }

  /** Moves `entry` (with `slot`), to be placed at `i`, up or down to where it belongs. */
  #sift(i: number, entry: E, slot: number): void {
    if (i > 0) {
      const parent = (i - 1) >> 2
      const at = entry.at
      const pat = this.#at[parent]!
      if (at < pat || (at === pat && entry.seq < this.#seq[parent]!)) {
        this.#up(i, entry, slot)
        return
      }
    }
    this.#down(i, entry, slot)
  }

  #up(start: number, entry: E, slot: number): void {
    const items = this.#items
    const ats = this.#at
    const seqs = this.#seq
    const slotAt = this.#slotAt
    const position = this.#position
    const at = entry.at
    const seq = entry.seq
    let i = start
    while (i > 0) {
      const p = (i - 1) >> 2
      const pat = ats[p]!
      if (!(at < pat || (at === pat && seq < seqs[p]!))) break
      items[i] = items[p]!
      ats[i] = pat
      seqs[i] = seqs[p]!
      const moved = slotAt[p]!
      slotAt[i] = moved
      position[moved] = i
      i = p
    }
    items[i] = entry
    ats[i] = at
    seqs[i] = seq
    slotAt[i] = slot
    position[slot] = i
  }

  #down(start: number, entry: E, slot: number): void {
    const items = this.#items
    const ats = this.#at
    const seqs = this.#seq
    const slotAt = this.#slotAt
    const position = this.#position
    const n = items.length
    const at = entry.at
    const seq = entry.seq
    let i = start
    for (;;) {
      const first = ARITY * i + 1
      if (first >= n) break
      // The earliest of up to four adjacent children.
      let child = first
      let cat = ats[first]!
      let cseq = seqs[first]!
      const end = Math.min(first + ARITY, n)
      for (let c = first + 1; c < end; c++) {
        const a = ats[c]!
        if (a < cat || (a === cat && seqs[c]! < cseq)) {
          child = c
          cat = a
          cseq = seqs[c]!
        }
      }
      if (!(cat < at || (cat === at && cseq < seq))) break
      items[i] = items[child]!
      ats[i] = cat
      seqs[i] = cseq
      const moved = slotAt[child]!
      slotAt[i] = moved
      position[moved] = i
      i = child
    }
    items[i] = entry
    ats[i] = at
    seqs[i] = seq
    slotAt[i] = slot
    position[slot] = i
  }
}
