import { OptionRangeError, OptionTypeError } from '../index.js'

/** The label value under which resources past the bound are counted together. */
export const OTHER_RESOURCES = '_other'

/** Default bound on the number of resources that get a label of their own. */
export const DEFAULT_MAX_LABELLED = 1_000

/**
 * Bounds label cardinality: the first `max` resource names seen get a label of their own, every
 * later one is counted under {@link OTHER_RESOURCES}. A name keeps the label it got first.
 */
export class ResourceLabels {
  readonly #own = new Set<string>()
  readonly #max: number

  constructor(max: unknown = DEFAULT_MAX_LABELLED) {
    if (typeof max !== 'number') throw new OptionTypeError('maxLabelledResources', 'a number', max)
    if (!(Number.isInteger(max) && max >= 0))
      throw new OptionRangeError('maxLabelledResources', 'a non-negative integer', max)
    this.#max = max
  }

  /** The label value for `name`. */
  of(name: string): string {
    if (this.#own.has(name)) return name
    if (this.#own.size < this.#max) {
      this.#own.add(name)
      return name
    }
    return OTHER_RESOURCES
  }
}
