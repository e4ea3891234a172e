/** The list id of a slot that is in no list. */
export const NO_LIST = 255
const NONE = -1

/**
 * A few doubly linked lists threaded through slot indices, in typed arrays (8 bytes a slot, 9
 * with the list id, 17 when weighted): the orders an eviction policy keeps, without an object per
 * key. Each list runs from its least recently used slot (`head`) to its most recently used one
 * (`tail`). Each list also sums the weights of its slots (every slot weighs 1 unless the lists
 * were made `weighted`).
 */
export class SlotLists {
  #prev: Int32Array
  #next: Int32Array
  #list: Uint8Array
  #weights: Float64Array | undefined
  readonly #heads: Int32Array
  readonly #tails: Int32Array
  readonly #counts: Float64Array
  readonly #listWeights: Float64Array

  constructor(lists: number, capacity: number, weighted: boolean) {
    this.#prev = new Int32Array(capacity)
    this.#next = new Int32Array(capacity)
    this.#list = new Uint8Array(capacity).fill(NO_LIST)
    this.#weights = weighted ? new Float64Array(capacity) : undefined
    this.#heads = new Int32Array(lists).fill(NONE)
    this.#tails = new Int32Array(lists).fill(NONE)
    this.#counts = new Float64Array(lists)
    this.#listWeights = new Float64Array(lists)
  }

  /** Bytes held per slot of capacity. */
  get bytesPerSlot(): number {
    return 9 + (this.#weights === undefined ? 0 : 8)
  }

  /** Makes room for slots `0..capacity-1`. */
  grow(capacity: number): void {
    if (capacity <= this.#prev.length) return
    this.#prev = grown(this.#prev, new Int32Array(capacity))
    this.#next = grown(this.#next, new Int32Array(capacity))
    const list = new Uint8Array(capacity).fill(NO_LIST)
    list.set(this.#list)
    this.#list = list
    if (this.#weights !== undefined) this.#weights = grown(this.#weights, new Float64Array(capacity))
  }

  /** The list holding `slot`, or `NO_LIST`. */
  listOf(slot: number): number {
    return this.#list[slot]!
  }

  /** The least recently used slot of `list`, or -1 when it is empty. */
  head(list: number): number {
    return this.#heads[list]!
  }

  /** How many slots `list` holds. */
  count(list: number): number {
    return this.#counts[list]!
  }

  /** The summed weight of the slots in `list`. */
  weightOf(list: number): number {
    return this.#listWeights[list]!
  }

  /** The weight of `slot` (1 unless weighted). */
  weight(slot: number): number {
    return this.#weights === undefined ? 1 : this.#weights[slot]!
  }

  /** Changes the weight of `slot`, in whichever list holds it. */
  setWeight(slot: number, weight: number): void {
    const weights = this.#weights
    if (weights === undefined) return
    const list = this.#list[slot]!
    if (list !== NO_LIST) this.#listWeights[list] = this.#listWeights[list]! - weights[slot]! + weight
    weights[slot] = weight
  }

  /** Puts `slot` (in no list) at the most recently used end of `list`. */
  append(list: number, slot: number): void {
    const tail = this.#tails[list]!
    this.#prev[slot] = tail
    this.#next[slot] = NONE
    if (tail === NONE) this.#heads[list] = slot
    else this.#next[tail] = slot
    this.#tails[list] = slot
    this.#list[slot] = list
    this.#counts[list] = this.#counts[list]! + 1
    this.#listWeights[list] = this.#listWeights[list]! + this.weight(slot)
  }

  /** Takes `slot` out of its list (no effect when it is in none). */
  unlink(slot: number): void {
    const list = this.#list[slot]!
    if (list === NO_LIST) return
    const prev = this.#prev[slot]!
    const next = this.#next[slot]!
    if (prev === NONE) this.#heads[list] = next
    else this.#next[prev] = next
    if (next === NONE) this.#tails[list] = prev
    else this.#prev[next] = prev
    this.#list[slot] = NO_LIST
    this.#counts[list] = this.#counts[list]! - 1
    this.#listWeights[list] = this.#listWeights[list]! - this.weight(slot)
  }

  /** Moves `slot` to the most recently used end of `list` (from whichever list held it). */
  moveTo(list: number, slot: number): void {
    if (this.#list[slot] === list && this.#tails[list] === slot) return
    this.unlink(slot)
    this.append(list, slot)
  }

  /** The slots of `list` from least to most recently used (for tests and diagnostics). */
  *slots(list: number): IterableIterator<number> {
    for (let slot = this.#heads[list]!; slot !== NONE; slot = this.#next[slot]!) yield slot
  }
}

function grown<T extends Int32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old)
  return bigger
}
