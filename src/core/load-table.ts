/**
 * The loads in flight of a registry, in one dense array; a resource keeps only its load's index.
 *
 * Why not a field on the resource: a load is young and its resource is old, and the collector
 * remembers every pointer from an old object to a young one and visits it at each young-generation
 * collection. Resources refreshed in random order (jitter) lie all over the heap, so at 100,000
 * resources each such visit missed the cache and made each collection longer. Kept in one array, the
 * visits are a short sequential scan. Freed indices are reused first, so the array stays as small as
 * the most loads ever in flight at once.
 */
export class LoadTable<L extends object> {
  readonly #loads: (L | undefined)[] = []
  /**
   * How many times each index was given out, so a holder of an index can tell whether it still
   * names its load. Small integers, like the free list, so these arrays hold no pointers.
   */
  readonly #generations: number[] = []
  readonly #free: number[] = []

  /** Stores `load` and returns its index. */
  add(load: L): number {
    let index = this.#free.pop()
    if (index === undefined) {
      index = this.#loads.length
      this.#generations.push(0)
    }
    this.#loads[index] = load
    // Wrapped to stay a small integer; a holder would need 2^30 reuses of its index to be fooled.
    this.#generations[index] = ((this.#generations[index] as number) + 1) & 0x3fffffff
    return index
  }

  /** The load at `index`, or `undefined` for -1 (no load). */
  get(index: number): L | undefined {
    return index === -1 ? undefined : this.#loads[index]
  }

  /** The current generation of `index`: with it, {@link at} finds the load stored now, and only it. */
  generation(index: number): number {
    return this.#generations[index] as number
  }

  /** The load at `index` if it is still the one stored under `generation`. */
  at(index: number, generation: number): L | undefined {
    return this.#generations[index] === generation ? this.#loads[index] : undefined
  }

  /** Frees `index`. */
  delete(index: number): void {
    this.#loads[index] = undefined
    this.#free.push(index)
  }

  /** How many loads are stored. */
  get size(): number {
    return this.#loads.length - this.#free.length
  }
}
