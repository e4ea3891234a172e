import { DuplicateResourceError, OptionTypeError, UndefinedResourceError } from '../core/errors.js'
import type { FamilyHealth } from '../core/health.js'
import type { EngineHost } from '../core/host.js'
import type { Settings } from '../core/options.js'
import { coreOf, type Family, newFamily } from './family.js'
import { familyHealth } from './family-health.js'
import { FamilyNameError } from './family-name-error.js'
import { type FamilyOptions, resolveFamilySettings } from './family-options.js'
import type { KeyLoader } from './key-flight.js'

export type { Family } from './family.js'
export type { FamilyOptions } from './family-options.js'
export type { KeyLoader } from './key-flight.js'

/** The families of a registry: what the registry does to each of them as a whole. */
export class RegistryFamilies {
  // biome-ignore lint/suspicious/noExplicitAny: families of any key and value type
  readonly #families = new Map<string, Family<any, any>>()

  constructor(readonly host: EngineHost) {}

  has(name: string): boolean {
    return this.#families.has(name)
  }

  /** The error for a name no resource has: one pointing to the family when a family has it. */
  unknown(name: string): UndefinedResourceError {
    return this.#families.has(name) ? new FamilyNameError(name) : new UndefinedResourceError(name)
  }

  get size(): number {
    return this.#families.size
  }

  names(): IterableIterator<string> {
    return this.#families.keys()
  }

  /** Makes a family; `taken` says whether a resource already has the name. */
  add<V, K>(
    name: string,
    loader: KeyLoader<V>,
    options: FamilyOptions<K, V> | undefined,
    defaults: Settings,
    taken: boolean,
  ): Family<V, K> {
    if (typeof name !== 'string' || name.length === 0)
      throw new OptionTypeError('name', 'a non-empty string', name)
    if (typeof loader !== 'function')
      throw new OptionTypeError(`loader" of family "${name}`, 'a function', loader)
    if (taken || this.#families.has(name)) throw new DuplicateResourceError(name)
    const family = newFamily<V, K>(
      name,
      loader,
      resolveFamilySettings<K, V>(defaults, options, name),
      this.host,
    )
    this.#families.set(name, family)
    return family
  }

  /** Ends the family `name`: its loads aborted, its keys dropped. False when there is none. */
  remove(name: string): boolean {
    const family = this.#families.get(name)
    if (family === undefined) return false
    this.#families.delete(name)
    const core = coreOf(family)
    core.closed = true
    void core.stop('its family was removed')
    core.table.clear()
    core.errors.clear()
    return true
  }

  start(): void {
    for (const family of this.#families.values()) coreOf(family).start()
  }

  /** Stops every family; adds the loads still settling to `pending`. */
  stop(pending: Promise<void>[]): void {
    for (const family of this.#families.values()) {
      const done = coreOf(family).stop('the registry stopped')
      if (done !== undefined) pending.push(done)
    }
  }

  status(): FamilyHealth[] {
    return [...this.#families.values()].map((family) => familyHealth(family.name, family.stats()))
  }
}
