import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Codes } from '#contract'
import { connect, publishAck } from '../helpers/mqtt.ts'
import { startNatsCluster, type NatsCluster } from '../helpers/nats.ts'
import { runCli, startHubProcess, type HubProcess } from '../helpers/process.ts'
import { doorFact, linked, startHouse, USERS, type House } from './houses.ts'

describe('a house the estate refuses keeps running alone', () => {
  let cluster: NatsCluster
  let grandma: House
  const cleanup: (() => Promise<unknown>)[] = []

  beforeAll(async () => {
    cluster = await startNatsCluster(USERS)
    grandma = await startHouse(cluster, 'grandma')
    await linked(grandma)
  }, 60_000)

  afterAll(async () => {
    for (const c of cleanup.reverse()) await c()
    await grandma?.stop()
    await cluster?.close()
  })

  it('logs a wrong NATS credential as HF_ESTATE_REFUSED, naming the user, and the house still accepts facts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-refused-'))
    let proc: HubProcess | null = null
    cleanup.push(async () => {
      proc?.proc.kill('SIGKILL')
      await proc?.exited
      rmSync(dir, { recursive: true, force: true })
    })
    proc = await startHubProcess(dir, ['--estate-site', 'family', '--estate-servers', cluster.servers, '--estate-user', 'family', '--estate-password', 'not-the-password'])
    const line = await proc.waitForLog<{ level: number, code?: string, msg: string }>((e) => e.code === Codes.ESTATE_REFUSED)
    expect(line.level).toBe(50)
    expect(line.msg).toMatch(/^estate: refused: the NATS servers refused this house's credential \(estate.user "family"\): .*; this house runs alone$/)
    const admin = await connect(proc.mqttUrl, { clientId: 'refused-admin', protocolVersion: 5, ...proc.admin })
    const fact = doorFact(1)
    expect(await publishAck(admin, 'home/hall/front-door/fact/opened', JSON.stringify(fact))).toStrictEqual({ reasonCode: 0 })
    await admin.endAsync()
  }, 60_000)

  it('logs a site name another house holds as HF_ESTATE_REFUSED, and that house still accepts facts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-impostor-'))
    let proc: HubProcess | null = null
    cleanup.push(async () => {
      proc?.proc.kill('SIGKILL')
      await proc?.exited
      rmSync(dir, { recursive: true, force: true })
    })
    proc = await startHubProcess(dir, ['--estate-site', 'grandma', '--estate-servers', cluster.servers, '--estate-user', 'aunt', '--estate-password', USERS[2]!.password])
    const line = await proc.waitForLog<{ level: number, code?: string, msg: string }>((e) => e.code === Codes.ESTATE_REFUSED)
    expect(line.level).toBe(50)
    expect(line.msg).toMatch(/^estate: refused: the site name "grandma" is taken by another house \(joined .+\); choose another estate.site; this house runs alone$/)
    const health = await (await fetch(`${proc.httpUrl}/api/health`)).json() as { estate: unknown }
    expect(health.estate).toStrictEqual({ site: 'grandma', status: 'refused', refusal: { code: Codes.ESTATE_REFUSED, message: expect.stringMatching(/^the site name "grandma" is taken/) } })
    const admin = await connect(proc.mqttUrl, { clientId: 'impostor-admin', protocolVersion: 5, ...proc.admin })
    expect(await publishAck(admin, 'home/hall/front-door/fact/opened', JSON.stringify(doorFact(1)))).toStrictEqual({ reasonCode: 0 })
    await admin.endAsync()
    // The house that holds the name is still linked.
    expect(grandma.estate.status).toBe('linked')
  }, 60_000)

  it('frees a site name when its house leaves the estate (homefacts estate leave), so another house may take it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-leaving-'))
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }))
    const flags = ['--estate-site', 'aunt', '--estate-servers', cluster.servers, '--estate-user', 'aunt', '--estate-password', USERS[2]!.password]
    const aunt = await startHouse(cluster, 'aunt', { dir })
    await linked(aunt)
    await aunt.stop()
    const left = await runCli(['estate', 'leave', '--data-dir', dir, ...flags])
    expect(left).toMatchObject({ code: 0, stdout: 'left the estate as "aunt"\nstream deleted; retained values deleted\nconsumers deleted: none\nsite name released\nthis house\'s ledger keeps every fact; remove the estate section from its config before the next start\n' })
    const newcomer = await startHouse(cluster, 'aunt', { user: 'family' })
    cleanup.push(() => newcomer.stop())
    await linked(newcomer)
    expect(newcomer.estate.status).toBe('linked')
  }, 60_000)
})
