// The restart model of `restart-model.test.ts`, over a hundred times as many random sequences.
process.env.RESTART_MODEL_RUNS = '20000'
await import('./restart-model.test.js')
