// The fleet model of `fleet-model.test.ts`, over hundreds of times as many random sequences.
process.env.FLEET_MODEL_RUNS = '20000'
await import('./fleet-model.test.js')
