import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { ordersService } from '../../services/orders/index.ts'
import { customersService } from '../../services/customers/index.ts'
import { call } from './shop.ts'

describe('the hub in front of the shop services', () => {
  let hub: TestHub | undefined
  afterEach(async () => { await hub?.stop() })

  it('proxies /api/orders and /api/customers to the services’ own ports, bodies and answers untouched', async () => {
    hub = await startTestHub({ services: [ordersService, customersService], flags: { 'orders.port': 0, 'customers.port': 0 } })
    const clerk = await hub.addUser({ username: 'clerk', role: 'shop' })
    const customer = await call(`${hub.httpUrl}/api/customers`, 'POST', { name: 'Ann', phone: '+44 7700 900123' }, clerk)
    expect(customer).toStrictEqual({ status: 201, body: { id: expect.any(String), name: 'Ann', phone: '+44 7700 900123', seq: 1, updatedAt: expect.any(String) } })
    const customerId = (customer.body as { id: string }).id
    const order = await call(`${hub.httpUrl}/api/orders`, 'POST', { customerId, lines: [{ sku: 'cup', quantity: 1, unitPrice: 300 }], currency: 'EUR' }, clerk)
    expect(order.status).toBe(201)
    expect((await call(`${hub.httpUrl}/api/orders/${(order.body as { id: string }).id}`, 'GET', undefined, clerk)).body).toMatchObject({ customerId, total: 300 })
    expect(await call(`${hub.httpUrl}/api/orders`, 'POST', { lines: [] }, clerk)).toMatchObject({ status: 400, body: { error: 'HF_BODY' } })
    expect((await call(`${hub.httpUrl}/api/nothing-here`, 'GET', undefined, clerk)).status).toBe(404)
    expect((await call(`${hub.httpUrl}/api/health`, 'GET', undefined)).body).toMatchObject({ status: 'ok' })
  })

  it('checks HTTP Basic against the hub\'s users and tells the service who is calling: 401 before the service, 403 from it', async () => {
    hub = await startTestHub({ services: [ordersService], flags: { 'orders.port': 0 } })
    const order = { customerId: 'c-1', lines: [{ sku: 'cup', quantity: 1, unitPrice: 300 }], currency: 'EUR' }
    const url = `${hub.httpUrl}/api/orders`
    const nobody = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) })
    expect(nobody.status).toBe(401)
    expect(nobody.headers.get('www-authenticate')).toBe('Basic realm="homefacts"')
    expect(await nobody.json()).toStrictEqual({ error: 'HF_BAD_CREDENTIALS', message: 'HTTP Basic credentials of a homefacts user are required', issues: [] })
    await hub.addUser({ username: 'clerk', role: 'shop', password: 'the-clerk-password' })
    expect((await call(url, 'POST', order, { username: 'clerk', password: 'not-it' })).status).toBe(401)
    const mum = await hub.addUser({ username: 'mum', role: 'member', member: 'mum' })
    expect(await call(url, 'POST', order, mum)).toMatchObject({ status: 403, body: { error: 'HF_NOT_AUTHORIZED', message: 'role "member" may not do this; one of: admin, shop' } })
    // Headers a caller sets itself are replaced by what the proxy vouches for.
    const forged = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`mum:${mum.password}`).toString('base64')}`, 'x-homefacts-role': 'admin', 'x-homefacts-user': 'clerk', 'x-homefacts-proxy-secret': 'guess' },
      body: JSON.stringify(order)
    })
    expect(forged.status).toBe(403)
    expect(await call(url, 'POST', order, { username: 'clerk', password: 'the-clerk-password' })).toMatchObject({ status: 201, body: { customerId: 'c-1', total: 300 } })
  })
})
