export { LOAD_DURATION_BUCKETS } from '../metrics/load-duration-buckets.js'
export type { PrometheusMetrics, PrometheusMetricsOptions } from './prometheus-metrics.js'
export { prometheusMetrics } from './prometheus-metrics.js'
