import { UndefinedResourceError } from '../core/errors.js'

/**
 * `resources.get(name)` or `resources.resource(name)` named a family: a family has no value of
 * its own; read its keys through the handle `resources.family()` returned. Its `code` is that of
 * an undefined resource (`E_UNDEFINED_RESOURCE`), so callers that handle that go on working.
 */
export class FamilyNameError extends UndefinedResourceError {
  override name = 'FamilyNameError'
  constructor(family: string) {
    super(family)
    this.message = `"${family}" is a family, not a resource: read its keys with the handle resources.family("${family}", …) returned (family.get(key), family.fetch(key))`
  }
}
