import { describe, expect, it } from 'vitest'
import { InOrder } from '../../broker/in-order.ts'

describe('InOrder', () => {
  it('calls back in the order places were taken, whatever order they settle in', () => {
    const order = new InOrder<Error>(() => {})
    const calls: string[] = []
    const a = order.take(() => calls.push('a'))
    const b = order.take((err) => calls.push(`b:${err?.message}`))
    order.now(() => calls.push('c'))
    const d = order.take(() => calls.push('d'))
    d(null)
    b(new Error('refused'))
    expect(calls).toEqual([])
    a(null)
    expect(calls).toEqual(['a', 'b:refused', 'c', 'd'])
    expect(order.waiting).toBe(0)
  })

  it('calls back at once when nothing waits, and settles a place only once', () => {
    const order = new InOrder<Error>(() => {})
    const calls: string[] = []
    order.now(() => calls.push('now'))
    expect(calls).toEqual(['now'])
    const a = order.take(() => calls.push('a'))
    a(null)
    a(new Error('twice'))
    expect(calls).toEqual(['now', 'a'])
  })

  it('keeps going past a callback that throws, and reports it', () => {
    const thrown: unknown[] = []
    const order = new InOrder<Error>((err) => thrown.push(err))
    const calls: string[] = []
    const a = order.take(() => { throw new Error('boom') })
    order.now(() => calls.push('b'))
    a(null)
    expect(calls).toEqual(['b'])
    expect((thrown[0] as Error).message).toBe('boom')
  })

  it('takes places from inside a callback in order', () => {
    const order = new InOrder<Error>(() => {})
    const calls: string[] = []
    const a = order.take(() => {
      calls.push('a')
      order.now(() => calls.push('inner'))
    })
    order.now(() => calls.push('b'))
    a(null)
    expect(calls).toEqual(['a', 'b', 'inner'])
  })

  it('stays in order across many places settled in reverse', () => {
    const order = new InOrder<Error>(() => {})
    const calls: number[] = []
    const settles = Array.from({ length: 3000 }, (_, i) => order.take(() => calls.push(i)))
    for (let i = settles.length - 1; i >= 0; i--) settles[i]!(null)
    expect(calls).toEqual(Array.from({ length: 3000 }, (_, i) => i))
    expect(order.waiting).toBe(0)
  })
})
