export type { PrometheusMetrics, PrometheusMetricsOptions } from './prometheus-metrics.js'
export { LOAD_DURATION_BUCKETS, prometheusMetrics } from './prometheus-metrics.js'
