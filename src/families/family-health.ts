import type { FamilyHealth } from '../core/health.js'
import type { FamilyStats } from './family.js'

/** The status row of a family: its counters and its hit ratio. */
export function familyHealth(name: string, stats: FamilyStats): FamilyHealth {
  const reads = stats.hits + stats.misses
  return {
    name,
    size: stats.size,
    hits: stats.hits,
    misses: stats.misses,
    hitRatio: reads === 0 ? 0 : stats.hits / reads,
    loads: stats.loads,
    failures: stats.failures,
    evictions: stats.evictions,
    failing: stats.failing,
  }
}
