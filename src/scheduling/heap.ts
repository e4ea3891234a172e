/** An entry the {@link MinHeap} can hold: ordered by `at`, then by `seq`. */
export interface HeapEntry {
  at: number
  seq: number
  /** The heap's handle on the entry while it is in the heap, negative otherwise. Kept by the heap. */
  slot: number
}

/** Children per node: a 4-ary heap is half as deep as a binary one, and a node's children are adjacent. */
const ARITY = 4
/** Numbers per heap node: the entry's `at`, its `seq` and its slot, side by side. */
const STRIDE = 3

/**
 * A 4-ary min-heap whose entries can be removed or moved in O(log n) without a search. Entries are
 * the callers' own objects, and a sift never touches them: each node is three adjacent numbers (the
 * keys and the entry's slot) in one typed array, and the position of each slot in another. With
 * 100,000 entries in random order, a sift level then costs a cache line or two instead of a miss on
 * every object it moves. An entry has a slot only while it is in the heap, so slots are reused and
 * the arrays stay as large as the heap has ever been.
 */
export class MinHeap<E extends HeapEntry> {
  #size = 0
  /** By position: at, seq, slot. */
  #nodes = new Float64Array(64 * STRIDE)
  /** By slot: the entry, and its position. */
  readonly #entries: (E | undefined)[] = []
  #position = new Int32Array(64)
  readonly #freeSlots: number[] = []

  get size(): number {
    return this.#size
  }

  peek(): E | undefined {
    return this.#size === 0 ? undefined : this.#entries[this.#nodes[2]!]
  }

  /** Adds `entry`, which must not be in the heap. */
  push(entry: E): void {
    const i = this.#size++
    if (i * STRIDE === this.#nodes.length) {
      const nodes = new Float64Array(this.#nodes.length * 2)
      nodes.set(this.#nodes)
      this.#nodes = nodes
    }
    let slot = this.#freeSlots.pop()
    if (slot === undefined) {
      slot = this.#entries.length
      this.#entries.push(entry)
      if (slot === this.#position.length) {
        const position = new Int32Array(this.#position.length * 2)
        position.set(this.#position)
        this.#position = position
      }
    } else this.#entries[slot] = entry
    entry.slot = slot
    this.#up(i, entry.at, entry.seq, slot)
  }

  remove(entry: E): void {
    const slot = entry.slot
    if (slot < 0 || this.#entries[slot] !== entry) return
    const i = this.#position[slot]!
    entry.slot = -1
    this.#entries[slot] = undefined
    this.#freeSlots.push(slot)
    const last = --this.#size
    if (i === last) return
    const nodes = this.#nodes
    const l = last * STRIDE
    this.#sift(i, nodes[l]!, nodes[l + 1]!, nodes[l + 2]!)
  }

  /** Restores the order after the key of `entry`, already in the heap, changed. */
  update(entry: E): void {
    const slot = entry.slot
    if (slot < 0 || this.#entries[slot] !== entry) return
    this.#sift(this.#position[slot]!, entry.at, entry.seq, slot)
  }

  clear(): void {
    for (const entry of this.#entries) if (entry !== undefined) entry.slot = -1
    this.#entries.length = 0
    this.#freeSlots.length = 0
    this.#size = 0
  }

  /** Places the node (`at`, `seq`, `slot`), bound for position `i`, where it belongs above or below. */
  #sift(i: number, at: number, seq: number, slot: number): void {
    if (i > 0) {
      const p = ((i - 1) >> 2) * STRIDE
      const pat = this.#nodes[p]!
      if (at < pat || (at === pat && seq < this.#nodes[p + 1]!)) {
        this.#up(i, at, seq, slot)
        return
      }
    }
    this.#down(i, at, seq, slot)
  }

  #up(start: number, at: number, seq: number, slot: number): void {
    const nodes = this.#nodes
    let i = start
    while (i > 0) {
      const parent = (i - 1) >> 2
      const p = parent * STRIDE
      const pat = nodes[p]!
      if (!(at < pat || (at === pat && seq < nodes[p + 1]!))) break
      this.#write(i, pat, nodes[p + 1]!, nodes[p + 2]!)
      i = parent
    }
    this.#write(i, at, seq, slot)
  }

  #down(start: number, at: number, seq: number, slot: number): void {
    const nodes = this.#nodes
    const size = this.#size
    let i = start
    for (;;) {
      const first = ARITY * i + 1
      if (first >= size) break
      // The earliest of up to four adjacent children.
      let child = first
      let c = first * STRIDE
      let cat = nodes[c]!
      let cseq = nodes[c + 1]!
      const end = Math.min(first + ARITY, size)
      for (let k = first + 1; k < end; k++) {
        const o = k * STRIDE
        const a = nodes[o]!
        if (a < cat || (a === cat && nodes[o + 1]! < cseq)) {
          child = k
          c = o
          cat = a
          cseq = nodes[o + 1]!
        }
      }
      if (!(cat < at || (cat === at && cseq < seq))) break
      this.#write(i, cat, cseq, nodes[c + 2]!)
      i = child
    }
    this.#write(i, at, seq, slot)
  }

  /** Puts the node (`at`, `seq`, `slot`) at position `i`. */
  #write(i: number, at: number, seq: number, slot: number): void {
    const nodes = this.#nodes
    const n = i * STRIDE
    nodes[n] = at
    nodes[n + 1] = seq
    nodes[n + 2] = slot
    this.#position[slot] = i
  }
}
