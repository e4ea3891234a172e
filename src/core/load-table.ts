/** Slots an empty table keeps; a larger one is dropped when its last load leaves. */
const EMPTY_KEEPS = 1024

/**
 * The loads in flight of a registry, in one dense array; a resource keeps only its load's index.
 *
 * Why not a field on the resource: a load is young and its resource is old, and the collector
 * remembers every pointer from an old object to a young one and visits it at each young-generation
 * collection. Resources refreshed in random order (jitter) lie all over the heap, so at 100,000
 * resources each such visit missed the cache and made each collection longer. Kept in one array, the
 * visits are a short sequential scan.
 *
 * Each stored load gets a ticket, unique among the last 2^30 loads, so whoever holds an index can
 * tell whether it still names its load. Freed indices are reused first, so the table stays as large
 * as the most loads in flight at once, at about 12 bytes for each; once it empties, a large table is
 * dropped, so the burst of first loads at start does not keep its room.
 */
export class LoadTable<L extends object> {
  #loads: (L | undefined)[] = []
  /**
   * Per index: the ticket of its load (positive) while in use; when free, `-2 - next` where `next`
   * is the next free index, or -1. Integers in a typed array, so the collector never scans it.
   */
  #tickets = new Int32Array(16)
  #firstFree = -1
  #lastTicket = 0
  #size = 0

  /** Stores `load` and returns its index. */
  add(load: L): number {
    let index = this.#firstFree
    if (index === -1) {
      index = this.#loads.length
      if (index === this.#tickets.length) {
        const grown = new Int32Array(index * 2)
        grown.set(this.#tickets)
        this.#tickets = grown
      }
      this.#loads.push(load)
    } else {
      this.#firstFree = -2 - (this.#tickets[index] as number)
      this.#loads[index] = load
    }
    // Wraps before it leaves the positive int32 range; 0 is never a ticket.
    this.#lastTicket = this.#lastTicket === 0x3fffffff ? 1 : this.#lastTicket + 1
    this.#tickets[index] = this.#lastTicket
    this.#size++
    return index
  }

  /** The load at `index`, or `undefined` for -1 (no load). */
  get(index: number): L | undefined {
    return index === -1 ? undefined : this.#loads[index]
  }

  /** The ticket of the load at `index`: with it, {@link at} finds that load, and only it. */
  ticket(index: number): number {
    return this.#tickets[index] as number
  }

  /** The load at `index` if it is still the one that had `ticket`. */
  at(index: number, ticket: number): L | undefined {
    return this.#tickets[index] === ticket ? this.#loads[index] : undefined
  }

  /** Frees `index`. */
  delete(index: number): void {
    this.#loads[index] = undefined
    this.#tickets[index] = -2 - this.#firstFree
    this.#firstFree = index
    if (--this.#size === 0 && this.#loads.length > EMPTY_KEEPS) {
      // Empty after a burst (every resource's first load at start): the room it took is given back.
      this.#loads = []
      this.#tickets = new Int32Array(16)
      this.#firstFree = -1
    }
  }

  /** How many loads are stored. */
  get size(): number {
    return this.#size
  }
}
