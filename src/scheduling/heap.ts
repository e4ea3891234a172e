/** An entry the {@link MinHeap} can hold: ordered by `at`, then by `seq`; `index` is kept by the heap. */
export interface HeapEntry {
  at: number
  seq: number
  /** Position in the heap, or -1 when not in it. */
  index: number
}

function before(a: HeapEntry, b: HeapEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

/**
 * A binary min-heap that tracks each entry's position, so an entry can be removed or moved in
 * O(log n) without a search. Entries are the callers' own objects: the heap allocates nothing per entry.
 */
export class MinHeap<E extends HeapEntry> {
  readonly #items: E[] = []

  get size(): number {
    return this.#items.length
  }

  peek(): E | undefined {
    return this.#items[0]
  }

  push(entry: E): void {
    entry.index = this.#items.length
    this.#items.push(entry)
    this.#up(entry.index)
  }

  remove(entry: E): void {
    const i = entry.index
    const items = this.#items
    if (i < 0 || items[i] !== entry) return
    const last = items.pop()!
    entry.index = -1
    if (last === entry) return
    items[i] = last
    last.index = i
    this.#up(i)
    this.#down(last.index)
  }

  /** Restores the order after the key of `entry`, already in the heap, changed. */
  update(entry: E): void {
    const i = entry.index
    if (i < 0 || this.#items[i] !== entry) return
    this.#up(i)
    this.#down(entry.index)
  }

  clear(): void {
    for (const entry of this.#items) entry.index = -1
    this.#items.length = 0
  }

  #up(start: number): void {
    const items = this.#items
    let i = start
    const entry = items[i]!
    while (i > 0) {
      const parentIndex = (i - 1) >> 1
      const parent = items[parentIndex]!
      if (!before(entry, parent)) break
      items[i] = parent
      parent.index = i
      i = parentIndex
    }
    items[i] = entry
    entry.index = i
  }

  #down(start: number): void {
    const items = this.#items
    const n = items.length
    let i = start
    const entry = items[i]!
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      let child = left
      if (right < n && before(items[right]!, items[left]!)) child = right
      const c = items[child]!
      if (!before(c, entry)) break
      items[i] = c
      c.index = i
      i = child
    }
    items[i] = entry
    entry.index = i
  }
}
