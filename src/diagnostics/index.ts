export type {
  FleetEvent,
  FleetEventKind,
  LoadTraceContext,
  StoreOperation,
  StoreTraceContext,
} from './channels.js'
export { channelNames, fleetChannel, loadChannel, storeChannel } from './channels.js'
export { traceLoads } from './trace-loads.js'
export { traceStore } from './trace-store.js'
