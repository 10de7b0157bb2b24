import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { ordersService } from '../../services/orders/service.ts'
import { customersService } from '../../services/customers/service.ts'
import { call } from './shop.ts'

describe('the hub in front of the shop services', () => {
  let hub: TestHub | undefined
  afterEach(async () => { await hub?.stop() })

  it('proxies /api/orders and /api/customers to the services’ own ports, bodies and answers untouched', async () => {
    hub = await startTestHub({ services: [ordersService, customersService], flags: { 'orders.port': 0, 'customers.port': 0 } })
    const clerk = await hub.addUser({ username: 'clerk', role: 'shop' })
    const customer = await call(`${hub.httpUrl}/api/customers`, 'POST', { name: 'Ann', phone: '+44 7700 900123' }, clerk)
    expect(customer).toStrictEqual({ status: 201, body: { customerId: expect.any(String), name: 'Ann', phone: '+44 7700 900123', seq: 1, updatedAt: expect.any(String) } })
    const customerId = (customer.body as { customerId: string }).customerId
    const order = await call(`${hub.httpUrl}/api/orders`, 'POST', { customerId, lines: [{ sku: 'cup', quantity: 1, unitPrice: 300 }], currency: 'EUR' }, clerk)
    expect(order.status).toBe(201)
    expect((await call(`${hub.httpUrl}/api/orders/${(order.body as { id: string }).id}`, 'GET', undefined, clerk)).body).toMatchObject({ customerId, total: 300 })
    expect(await call(`${hub.httpUrl}/api/orders`, 'POST', { lines: [] }, clerk)).toMatchObject({ status: 400, body: { error: 'HF_BODY' } })
    expect((await call(`${hub.httpUrl}/api/nothing-here`, 'GET', undefined, clerk)).status).toBe(404)
    expect((await call(`${hub.httpUrl}/api/health`, 'GET', undefined)).body).toMatchObject({ status: 'ok' })
  })
})
