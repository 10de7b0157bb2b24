#!/usr/bin/env -S node --max-semi-space-size=64
// The `homefacts` command: a thin entry that loads the TypeScript CLI through tsx.
//
// --max-semi-space-size=64 (MB; Node's default is 16): the hub holds each QoS 1 publish in memory
// until its ledger row commits, so under a steady stream a few hundred are alive at every
// young-generation GC. With the default they were copied and promoted at each one: the GCs
// took 3-7 ms and grew the old generation. With 64 MB they run half as often and promote next
// to nothing (README, "Benchmark"). V8 grows the young generation this far only when objects
// keep surviving it. The bench (bench/brokers.ts) runs every broker with the flags on this line.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../services/hub/cli.ts')
await main(process.argv)
