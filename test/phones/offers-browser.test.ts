import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import type { Fact } from '#contract'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { cupEmpty, cupFilled } from '../helpers/facts.ts'
import { householdService } from '../../services/household/index.ts'
import { phonesService } from '../../services/phones/index.ts'

const CHROMIUM = '/usr/bin/chromium'
// HOMEFACTS_SCREENSHOT_DIR=docs keeps the pictures for the README; a normal run writes none.
const SHOTS = process.env.HOMEFACTS_SCREENSHOT_DIR
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
const PASSWORDS = { mummy: 'mummy-secret-1', daddy: 'daddy-secret-1' }

/**
 * "Your first claim" in Chromium, on a hub with no config file: the members are their
 * logins, their agents offer the fact, a person claims it, and the other phone's offer goes.
 */
describe.skipIf(!existsSync(CHROMIUM))('offers in the household web app', () => {
  let t: TestHub
  let admin: MqttClient
  let wire: Inbox
  let browser: Browser
  const pages: Record<string, Page> = {}

  beforeAll(async () => {
    execFileSync(process.execPath, ['services/phones/web/build.mjs'])
    t = await startTestHub({ anonymous: true, services: [householdService, phonesService] })
    for (const m of ['mummy', 'daddy'] as const) await t.addUser({ username: m, role: 'member', member: m, password: PASSWORDS[m] })
    await t.hub.household.check()
    admin = await connect(t.anonymousUrl, { protocolVersion: 5, clientId: 'offers-browser-admin' })
    wire = new Inbox(admin)
    await admin.subscribeAsync(['home/+/+/claim', 'notify/+/fact/+'], { qos: 1 })
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    for (const m of ['mummy', 'daddy'] as const) {
      const page = await (await browser.newContext(PHONE)).newPage()
      await page.goto(`${t.httpUrl}/`)
      await page.getByLabel('User name').fill(m)
      await page.getByLabel('Password').fill(PASSWORDS[m])
      await page.getByRole('button', { name: 'Log in' }).click()
      await page.locator('#open-facts').waitFor()
      await page.locator('.status[data-status="live"]').waitFor()
      pages[m] = page
    }
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await admin?.endAsync()
    await t?.stop()
  })

  /** Publishes a fact and the retained state it sets, as a device does. */
  async function happen (f: Fact, value: string): Promise<void> {
    await admin.publishAsync(`${f.subject}/fact/${f.type.split('.')[1]}`, JSON.stringify(f), { qos: 1 })
    await admin.publishAsync(`${f.subject}/state`, JSON.stringify({ value, seq: f.seq, since: f.time, factId: f.id }), { qos: 1, retain: true })
  }

  /** Resolves with the page's clock once nothing matches `selector` any more (a MutationObserver, not polling). */
  const gone = (page: Page, selector: string): Promise<number> => page.evaluate((selector) => new Promise<number>((resolve) => {
    if (!document.querySelector(selector)) return resolve(Date.now())
    const seen = new MutationObserver(() => {
      if (document.querySelector(selector)) return
      seen.disconnect()
      resolve(Date.now())
    })
    seen.observe(document.body, { childList: true, subtree: true })
  }), selector)

  const shot = async (page: Page, name: string): Promise<void> => {
    if (!SHOTS) return
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: join(SHOTS, `phones-${name}.png`) })
  }

  const empty = cupEmpty(1)

  it('shows each member the offer their agent made, with "I\'ll do it"', async () => {
    await happen(empty, 'empty')
    for (const m of ['mummy', 'daddy']) {
      await pages[m]!.locator(`[data-offer="${empty.id}"]`).waitFor({ timeout: 5000 })
      const item = pages[m]!.locator(`li.open[data-fact="${empty.id}"]`)
      expect(await item.locator('.offer').textContent()).toBe('asked of you')
      expect(await item.getByRole('button', { name: 'I\'ll do it' }).count()).toBe(1)
    }
    await shot(pages.mummy!, 'offer')
  })

  it('claims from mummy\'s phone, and daddy\'s offer disappears within 1 s', async () => {
    const daddyGone = gone(pages.daddy!, `[data-offer="${empty.id}"]`)
    await pages.mummy!.locator(`li.open[data-fact="${empty.id}"]`).getByRole('button', { name: 'I\'ll do it' }).click()
    const [claim] = await wire.wait((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload !== '')
    const claimedAt = await pages.daddy!.evaluate(() => Date.now())
    expect({ ...claim!, payload: JSON.parse(claim!.payload) }).toStrictEqual({ topic: 'home/kitchen/lily-cup/claim', payload: { factId: empty.id, by: 'mummy', at: expect.any(String) }, qos: 1, retain: false })
    expect(await daddyGone - claimedAt).toBeLessThan(1000)
    expect(await pages.daddy!.locator(`li.open[data-fact="${empty.id}"] .claimed`).textContent()).toBe('claimed by mummy')
    // The claimant's offer stands until the cup is filled.
    expect(await pages.mummy!.locator(`li.open[data-fact="${empty.id}"] .claimed`).textContent()).toBe('claimed by mummy (you)')
    await wire.wait((m) => m.topic === 'notify/daddy/fact/offer-withdrawn')
    await shot(pages.mummy!, 'claim')
  })

  it('tells the story in the trace: the fact, the offers, the claim, the withdrawals and the refill', async () => {
    const filled = cupFilled(2)
    await happen(filled, 'full')
    await wire.wait((m) => m.topic === 'notify/mummy/fact/offer-withdrawn')
    await pages.mummy!.goto(`${t.httpUrl}/#/trace/${empty.id}`)
    await pages.mummy!.locator('li.step.resolution').waitFor()
    const steps = await pages.mummy!.locator('li.step').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))
    expect(steps).toContain('household.offered')
    expect(steps).toContain('household.claimed')
    expect(steps).toContain('household.offer-withdrawn')
    expect(steps.at(-1)).toBe('resolution')
    await shot(pages.mummy!, 'offer-trace')
  })
})
