import type { FleetCoordinator, Lease, Store, StoreEntry } from '../index.js'
import { type FleetEventKind, fleetChannel, type StoreOperation, storeChannel } from './channels.js'

function traced<R>(
  operation: StoreOperation,
  resource: string | undefined,
  call: () => Promise<R>,
): Promise<R> {
  if (!storeChannel.hasSubscribers) return call()
  return storeChannel.tracePromise(call, { operation, resource })
}

function publish(kind: FleetEventKind, resource: string): void {
  if (fleetChannel.hasSubscribers) fleetChannel.publish({ kind, resource })
}

/**
 * Wraps `store` so that each of its operations is published on the `evergreen:store` tracing
 * channel, and fleet events (leases taken and refused, writes refused by fencing, announcements
 * received) on `evergreen:fleet`, where the Prometheus and OpenTelemetry exporters count them.
 * The wrapper behaves as the store does: same results, same errors, same fleet coordinator.
 */
export function traceStore<S extends Store>(store: S): S {
  const fleet = store.fleet === undefined ? undefined : traceFleet(store.fleet)
  const wrapped: Store = {
    get: (name) => traced('get', name, () => store.get(name)),
    set: (name: string, entry: StoreEntry) =>
      traced('set', name, () => store.set(name, entry)).then((written) => {
        if (written === false) publish('write-refused', name)
        return written
      }),
    delete: (name) => traced('delete', name, () => store.delete(name)),
    list: () => traced('list', undefined, () => store.list()),
    close: () => traced('close', undefined, () => store.close()),
    ...(store.reopen === undefined ? {} : { reopen: () => store.reopen?.() }),
    ...(store.attach === undefined ? {} : { attach: (context) => store.attach?.(context) }),
    ...(fleet === undefined ? {} : { fleet }),
  }
  return wrapped as S
}

function traceFleet(fleet: FleetCoordinator): FleetCoordinator {
  return {
    get leaseTtl() {
      return fleet.leaseTtl
    },
    head: (name) => traced('head', name, () => fleet.head(name)),
    acquire: (name, floor) =>
      traced('acquire', name, () => fleet.acquire(name, floor)).then((lease: Lease | undefined) => {
        publish(lease === undefined ? 'lease-refused' : 'lease-taken', name)
        return lease
      }),
    watch: (listener) =>
      fleet.watch((name, version) => {
        publish('announcement', name)
        listener(name, version)
      }),
  }
}
