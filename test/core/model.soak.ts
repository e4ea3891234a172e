// The registry model of `model.test.ts`, over a hundred times as many random sequences.
process.env.MODEL_RUNS = '25000'
await import('./model.test.js')
