/** Default buckets of the load-duration histogram, in seconds: 5 ms to 30 s (the default timeout). */
export const LOAD_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]
