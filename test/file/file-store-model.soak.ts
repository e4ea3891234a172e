// The file-store model of `file-store-model.test.ts`, over a hundred times as many random sequences.
process.env.FILE_MODEL_RUNS = '6000'
await import('./file-store-model.test.js')
