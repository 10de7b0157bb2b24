import { once } from 'node:events'
import type { HeapSpaceInfo } from 'node:v8'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { workerWithSemiSpace } from '../../broker/worker-heap.ts'

const MB = 1024 * 1024

// Allocates a million small objects, 5,000 of them alive at a time (so scavenges find survivors
// and V8 grows the young generation up to its bound), then reports the young generation's size.
const CHURN = new URL(`data:text/javascript,${encodeURIComponent(`
import { getHeapSpaceStatistics } from 'node:v8'
import { parentPort } from 'node:worker_threads'
let alive = []
for (let i = 0; i < 1e6; i++) { alive.push({ i, s: 'x' + i }); if (alive.length > 5000) alive = [] }
parentPort.postMessage(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space'))
`)}`)

async function youngGeneration (worker: Worker): Promise<number> {
  const [space] = await once(worker, 'message') as [HeapSpaceInfo]
  await worker.terminate()
  return space.space_size
}

describe('workerWithSemiSpace', () => {
  it('bounds the young generation of the worker it starts, and only of that worker', async () => {
    const bounded = await youngGeneration(workerWithSemiSpace(CHURN, {}, 1))
    // Started after the first is online: the process's own bound (V8's default here) is back.
    const plain = await youngGeneration(new Worker(CHURN))
    expect(bounded).toBeLessThanOrEqual(2 * MB)
    expect(plain).toBeGreaterThan(4 * MB)
  })

  it('gives each of several workers started at once the bound, then gives the process its own back', async () => {
    const sizes = await Promise.all([1, 2, 3].map(() => youngGeneration(workerWithSemiSpace(CHURN, {}, 1))))
    const plain = await youngGeneration(new Worker(CHURN))
    expect(sizes.every((s) => s <= 2 * MB)).toBe(true)
    expect(plain).toBeGreaterThan(4 * MB)
  })
})
