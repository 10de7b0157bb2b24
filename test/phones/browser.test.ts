import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core'
import { type Fact } from '#contract'
import { makeFact } from '#client'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { cupEmpty, cupFilled } from '../helpers/facts.ts'
import { PushReceiver, type ReceivedPush } from '../helpers/receivers/push-receiver.ts'
import { householdService } from '../../services/household/index.ts'
import { Phones, phonesService, type PhonesContext } from '../../services/phones/index.ts'

const CHROMIUM = '/usr/bin/chromium'
// HOMEFACTS_SCREENSHOT_DIR=docs keeps the pictures for docs/phones.md; a normal run writes none.
const SHOTS = process.env.HOMEFACTS_SCREENSHOT_DIR
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
const PASSWORDS = { mummy: 'mummy-secret-1', daddy: 'daddy-secret-1' }

const stateOf = (f: Fact, value: string): string => JSON.stringify({ value, seq: f.seq, since: f.time, factId: f.id })

/** One entry of Chromium's own record of a phone's pushes and notifications (DevTools' Background Services). */
interface BrowserRecord {
  service: string
  eventName: string
  /** The notification's tag, for a notification. */
  instanceId: string
  meta: Record<string, string>
}

/** One member's phone: a browser context with its page, logged in, and its service worker's registration id. */
interface Phone {
  context: BrowserContext
  page: Page
  cdp: CDPSession
  registrationId: Promise<string>
  /** Resolves with the first record from index `from` on that matches `what`; rejects, listing what was recorded, after 5 s. */
  recorded: (from: number, what: string, match: (r: BrowserRecord) => boolean) => Promise<BrowserRecord>
  records: BrowserRecord[]
}

describe.skipIf(!existsSync(CHROMIUM))('the household web app in Chromium', () => {
  let t: TestHub
  let admin: MqttClient
  let wire: Inbox
  let browser: Browser
  let receiver: PushReceiver
  let mummy: Phone
  let daddy: Phone
  /** The id of mummy's push subscription at the local endpoint. */
  let pushId: string

  beforeAll(async () => {
    execFileSync(process.execPath, ['services/phones/web/build.mjs'])
    receiver = new PushReceiver()
    await receiver.start()
    // The phones service as the hub runs it, with an HTTPS agent that trusts the local push endpoint's CA.
    const phones = { ...phonesService, create: (ctx: PhonesContext) => new Phones(ctx, { pushAgent: receiver.agent! }) }
    t = await startTestHub({
      anonymous: true,
      flags: { 'https.enabled': true },
      services: [householdService, phones],
      file: {
        household: {
          // Busy: the responders stand back, so the phones claim; a high escalation still reaches them.
          members: [{ name: 'mummy', presence: 'busy' }, { name: 'daddy', presence: 'busy' }],
          policies: { 'cup.empty': { escalation: [{ afterSeconds: 0.2, notify: { members: ['mummy'] }, priority: 'high' }] } }
        }
      }
    })
    for (const m of ['mummy', 'daddy'] as const) await t.addUser({ username: m, role: 'member', member: m, password: PASSWORDS[m] })
    admin = await connect(t.anonymousUrl, { protocolVersion: 5, clientId: 'browser-test-admin' })
    wire = new Inbox(admin)
    await admin.subscribeAsync(['home/+/+/claim', 'household/+/presence'], { qos: 1 })
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await admin?.endAsync()
    await t?.stop()
    await receiver?.close()
  })

  async function openPhone (): Promise<Phone> {
    const context = await browser.newContext({ ...PHONE, permissions: ['notifications'] })
    const page = await context.newPage()
    const cdp = await context.newCDPSession(page)
    const registrationId = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const live = registrations.find((r) => !r.isDeleted && r.scopeURL === `${t.httpUrl}/`)
        if (live) resolve(live.registrationId)
      })
    })
    // Chromium records each push event it dispatches and completes, and each notification it
    // displays and closes. That record, not the page's getNotifications(), says when a push has
    // been handled: a getNotifications() that starts while a notification is being displayed
    // deletes it from Chromium's notification database for good.
    const records: BrowserRecord[] = []
    const waiting = new Set<() => void>()
    cdp.on('BackgroundService.backgroundServiceEventReceived', ({ backgroundServiceEvent: e }) => {
      records.push({ service: e.service, eventName: e.eventName, instanceId: e.instanceId, meta: Object.fromEntries(e.eventMetadata.map((m) => [m.key, m.value])) })
      for (const check of waiting) check()
    })
    const recorded = (from: number, what: string, match: (r: BrowserRecord) => boolean): Promise<BrowserRecord> => new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(check)
        reject(new Error(`Chromium recorded no ${what} within 5 s; it recorded ${JSON.stringify(records.slice(from).map((r) => [r.eventName, r.instanceId, r.meta.Status ?? '']))}`))
      }, 5000)
      const check = (): void => {
        const r = records.slice(from).find(match)
        if (!r) return
        clearTimeout(timer)
        waiting.delete(check)
        resolve(r)
      }
      waiting.add(check)
      check()
    })
    for (const service of ['pushMessaging', 'notifications'] as const) {
      await cdp.send('BackgroundService.startObserving', { service })
      await cdp.send('BackgroundService.setRecording', { shouldRecord: true, service })
    }
    await cdp.send('ServiceWorker.enable')
    return { context, page, cdp, registrationId, recorded, records }
  }

  async function logIn (phone: Phone, username: string, password: string): Promise<void> {
    await phone.page.goto(`${t.httpUrl}/`)
    await phone.page.getByLabel('User name').fill(username)
    await phone.page.getByLabel('Password').fill(password)
    await phone.page.getByRole('button', { name: 'Log in' }).click()
  }

  /** Publishes a fact and the retained state it sets, as a device does; resolves at the state's PUBACK. */
  async function happen (f: Fact, value: string): Promise<number> {
    const at = Date.now()
    await admin.publishAsync(`${f.subject}/fact/${f.type.split('.')[1]}`, JSON.stringify(f), { qos: 1 })
    await admin.publishAsync(`${f.subject}/state`, stateOf(f, value), { qos: 1, retain: true })
    return at
  }

  /**
   * Hands a decrypted push to the page's service worker, as the push service would, and resolves
   * with what Chromium recorded from its dispatch to its completion (the worker's `waitUntil`
   * settled), once the push event has succeeded.
   */
  async function deliver (phone: Phone, push: ReceivedPush): Promise<BrowserRecord[]> {
    // A push for a worker still installing is dropped: wait until it is the active one.
    await phone.page.evaluate(async () => {
      const worker = (await navigator.serviceWorker.ready).active!
      if (worker.state !== 'activated') await new Promise((resolve) => worker.addEventListener('statechange', () => worker.state === 'activated' && resolve(undefined)))
    })
    const data = JSON.stringify(push.payload)
    const from = phone.records.length
    await phone.cdp.send('ServiceWorker.deliverPushMessage', { origin: t.httpUrl, registrationId: await phone.registrationId, data })
    const dispatched = await phone.recorded(from, `push event dispatched for ${push.payload.kind} ${push.payload.tag}`, (r) => r.eventName === 'Push event dispatched' && r.meta.Payload === data)
    const at = phone.records.indexOf(dispatched)
    const completed = await phone.recorded(at, `push event completed for ${push.payload.kind} ${push.payload.tag}`, (r) => r.eventName === 'Push event completed')
    expect(completed.meta.Status, `the push event for ${push.payload.kind} ${push.payload.tag}`).toBe('Success')
    return phone.records.slice(at, phone.records.indexOf(completed) + 1)
  }

  /** The notification Chromium displayed while handling a push: its tag, title and body. */
  const displayed = (handled: BrowserRecord[]) => handled
    .filter((r) => r.service === 'notifications' && r.eventName === 'Notification displayed')
    .map((r) => ({ tag: r.instanceId, title: r.meta.Title, body: r.meta.Body }))

  /** Resolves once Chromium has closed the notification under `tag` (a close may land after the push event completes). */
  const closed = (phone: Phone, from: number, tag: string) => phone.recorded(from, `closed notification ${tag}`, (r) => r.eventName === 'Notification closed' && r.instanceId === tag)

  /**
   * Resolves with the page's clock once an element matching `selector` (and containing `text`) is
   * in the DOM. A MutationObserver sees it as it is drawn, where Playwright's waitFor polls at up
   * to 500 ms intervals, too coarse to check a 1 s bound.
   */
  const appears = (page: Page, selector: string, text = ''): Promise<number> => page.evaluate(([selector, text]) => new Promise<number>((resolve) => {
    const found = (): boolean => [...document.querySelectorAll(selector)].some((e) => e.textContent?.includes(text))
    if (found()) return resolve(Date.now())
    const seen = new MutationObserver(() => {
      if (!found()) return
      seen.disconnect()
      resolve(Date.now())
    })
    seen.observe(document.body, { childList: true, subtree: true, characterData: true })
  }), [selector, text] as const)

  /** The notifications the page's registration holds under `tag`: read only once no notification is being displayed. */
  const shown = (phone: Phone, tag: string) => phone.page.evaluate(async (tag) => {
    const reg = await navigator.serviceWorker.ready
    return (await reg.getNotifications({ tag })).map((n) => ({ tag: n.tag, title: n.title, body: n.body }))
  }, tag)

  const shot = async (page: Page, name: string): Promise<void> => {
    if (!SHOTS) return
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: join(SHOTS, `phones-${name}.png`) })
  }

  it('logs a member in with no password kept in the page, and serves an installable app', async () => {
    mummy = await openPhone()
    daddy = await openPhone()
    await logIn(mummy, 'mummy', PASSWORDS.mummy)
    await logIn(daddy, 'daddy', PASSWORDS.daddy)
    for (const p of [mummy, daddy]) await p.page.locator('.status[data-status="live"]').waitFor({ timeout: 10_000 })
    expect(await mummy.page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }))).toStrictEqual({ local: 0, session: 0 })
    const cookie = (await mummy.context.cookies()).find((c) => c.name === 'hf_session')
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' })
    expect(await mummy.page.evaluate(() => document.cookie)).toBe('')
    const manifest = await (await fetch(`${t.httpUrl}/manifest.webmanifest`)).json() as { name: string, display: string, icons: { src: string }[] }
    expect({ name: manifest.name, display: manifest.display }).toStrictEqual({ name: 'homefacts', display: 'standalone' })
    for (const icon of manifest.icons) expect((await fetch(`${t.httpUrl}${icon.src}`)).status).toBe(200)
    expect(await mummy.registrationId).toMatch(/.+/)
    // Headless Chromium has no push service: the page registers the local endpoint's subscription.
    const sub = receiver.subscription()
    pushId = sub.endpoint.split('/').pop()!
    const posted = await mummy.page.evaluate(async (sub) => (await fetch('/api/push/subscriptions', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sub) })).status, sub)
    expect(posted).toBe(201)
  }, 30_000)

  it('shows a cup.empty fact on the board and as an open fact within 1 s of its publish', async () => {
    // The rest of the house first. It also takes the first acknowledgement of a fresh hub, which
    // pays one-time start-up costs in the broker (hundreds of ms), out of the measured path.
    await happen(makeFact('door.closed', { subject: 'home/hall/front-door', source: 'devices/hall-front-door', seq: 1, data: {} }), 'closed')
    await admin.publishAsync('home/hall/front-door/availability', 'online', { qos: 1, retain: true })
    await admin.publishAsync('home/kitchen/lily-cup/availability', 'online', { qos: 1, retain: true })
    await mummy.page.locator('li[data-thing="hall/front-door"]').waitFor({ timeout: 5000 })
    const f = cupEmpty(1, 'kitchen', 'lily-cup')
    const boardAt = appears(mummy.page, 'li[data-thing="kitchen/lily-cup"] .value', 'empty')
    const openAt = appears(mummy.page, `li[data-fact="${f.id}"]`)
    const at = await happen(f, 'empty')
    const onBoard = await boardAt - at
    const open = await openAt - at
    expect({ onBoard: onBoard < 1000, open: open < 1000 }, `on the board after ${onBoard} ms, open after ${open} ms`).toStrictEqual({ onBoard: true, open: true })
    await expect.poll(() => mummy.page.locator('li[data-thing="kitchen/lily-cup"] .value').textContent()).toBe('empty')
    expect(await mummy.page.locator(`li[data-fact="${f.id}"]`).textContent()).toMatch(/lily-cup\s+in kitchen: empty, \d+ s ago/)
    await daddy.page.locator(`li[data-fact="${f.id}"] button`, { hasText: "I'll do it" }).waitFor({ timeout: 1000 })
    await shot(mummy.page, 'board')
  }, 15_000)

  it('claims it from mummy\'s phone: the broker retains the claim and daddy\'s phone shows it within 1 s', async () => {
    const state = JSON.parse((await t.hub.broker.retained('home/kitchen/lily-cup/state'))!.toString()) as { factId: string }
    const factId = state.factId
    // The escalation after 0.2 s reached mummy's phone first; her claim withdraws it.
    const notify = await receiver.next((p) => p.endpointId === pushId && p.payload.tag === factId && p.payload.kind === 'notify', 10_000)
    expect(displayed(await deliver(mummy, notify))).toStrictEqual([{ tag: factId, title: notify.payload.title, body: notify.payload.body }])
    expect(await shown(mummy, factId)).toHaveLength(1)
    const shownAt = appears(daddy.page, `li[data-fact="${factId}"] .claimed`, 'claimed by mummy')
    const clickedAt = Date.now()
    await mummy.page.locator(`li[data-fact="${factId}"]`).getByRole('button', { name: "I'll do it" }).click()
    const elapsed = await shownAt - clickedAt
    expect(elapsed, `daddy's phone showed the claim after ${elapsed} ms`).toBeLessThan(1000)
    const [claim] = await wire.wait((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload !== '')
    expect({ topic: claim!.topic, qos: claim!.qos, retain: claim!.retain }).toStrictEqual({ topic: 'home/kitchen/lily-cup/claim', qos: 1, retain: false })
    expect(JSON.parse(claim!.payload)).toMatchObject({ factId, by: 'mummy' })
    expect(JSON.parse((await t.hub.broker.retained('home/kitchen/lily-cup/claim'))!.toString())).toMatchObject({ factId, by: 'mummy' })
    await mummy.page.locator(`li[data-fact="${factId}"] .claimed`, { hasText: 'claimed by mummy (you)' }).waitFor({ timeout: 1000 })
    const withdraw = await receiver.next((p) => p.endpointId === pushId && p.payload.tag === factId && p.payload.kind === 'withdraw', 10_000)
    expect(withdraw.payload).toMatchObject({ kind: 'withdraw', tag: factId, body: 'claimed by mummy' })
    const from = mummy.records.length
    await deliver(mummy, withdraw)
    await closed(mummy, from, factId)
    expect(await shown(mummy, factId)).toStrictEqual([])
    await shot(mummy.page, 'open-fact')
  }, 15_000)

  it('sets mummy\'s presence from the switch, retained, and shows it on daddy\'s phone', async () => {
    await mummy.page.getByRole('group', { name: 'My presence' }).getByRole('button', { name: 'away' }).click()
    const [p] = await wire.wait((m) => m.topic === 'household/mummy/presence' && m.payload === 'away')
    expect(p).toStrictEqual({ topic: 'household/mummy/presence', payload: 'away', qos: 1, retain: false })
    await expect.poll(() => daddy.page.locator('section[aria-labelledby="presence-h"] li', { hasText: 'mummy' }).textContent()).toMatch(/away/)
    await mummy.page.getByRole('group', { name: 'My presence' }).getByRole('button', { name: 'busy' }).click()
    await wire.wait((m) => m.topic === 'household/mummy/presence' && m.payload === 'busy')
  }, 15_000)

  it('pushes an escalation to mummy\'s phone and withdraws it once the cup is filled: no notification is left', async () => {
    const id = pushId
    const f = cupEmpty(1, 'kitchen', 'tom-cup')
    await happen(f, 'empty')
    const notify = await receiver.next((p) => p.endpointId === id && p.payload.tag === f.id && p.payload.kind === 'notify', 10_000)
    expect(notify.payload).toMatchObject({ kind: 'notify', tag: f.id, priority: 'high', url: `/#/trace/${f.id}` })
    expect(displayed(await deliver(mummy, notify))).toStrictEqual([{ tag: f.id, title: notify.payload.title, body: notify.payload.body }])
    expect(await shown(mummy, f.id)).toStrictEqual([{ tag: f.id, title: notify.payload.title, body: notify.payload.body }])

    await happen(cupFilled(2, 'kitchen', 'tom-cup'), 'filled')
    for (const p of [mummy, daddy]) {
      await expect.poll(() => p.page.locator('li[data-thing="kitchen/tom-cup"] .value').textContent(), { timeout: 2000 }).toBe('filled')
      await expect.poll(() => p.page.locator(`li[data-fact="${f.id}"]`).count(), { timeout: 2000 }).toBe(0)
    }
    const withdraw = await receiver.next((p) => p.endpointId === id && p.payload.tag === f.id && p.payload.kind === 'withdraw', 10_000)
    expect(withdraw.payload).toMatchObject({ kind: 'withdraw', tag: f.id, title: `resolved: ${notify.payload.title}` })
    const from = mummy.records.length
    await deliver(mummy, withdraw)
    await closed(mummy, from, f.id)
    expect(await shown(mummy, f.id)).toStrictEqual([])
  }, 30_000)

  it('resolves the claimed fact when its cup is filled and shows the whole story in the trace view', async () => {
    const state = JSON.parse((await t.hub.broker.retained('home/kitchen/lily-cup/state'))!.toString()) as { factId: string }
    const factId = state.factId
    await happen(cupFilled(2, 'kitchen', 'lily-cup'), 'filled')
    for (const p of [mummy, daddy]) {
      await expect.poll(() => p.page.locator('li[data-thing="kitchen/lily-cup"] .value').textContent(), { timeout: 2000 }).toBe('filled')
      await expect.poll(() => p.page.locator(`li[data-fact="${factId}"]`).count(), { timeout: 2000 }).toBe(0)
    }
    await mummy.page.goto(`${t.httpUrl}/#/trace/${factId}`)
    const trace = mummy.page.locator('ol.trace')
    await trace.locator('li[data-type="resolution"]').waitFor({ timeout: 5000 })
    await expect.poll(async () => {
      await mummy.page.evaluate(() => window.dispatchEvent(new HashChangeEvent('hashchange')))
      return trace.locator('li[data-type="household.claimed"]').count()
    }, { timeout: 5000 }).toBeGreaterThan(0)
    const text = await trace.textContent()
    expect(text).toContain('the fact: cup.empty about home/kitchen/lily-cup')
    expect(text).toContain('claimed by mummy')
    expect(text).toContain('resolved: cup.filled about home/kitchen/lily-cup')
    expect(await trace.locator('li[data-type="household.decided"]').count()).toBeGreaterThan(0)
    expect(await trace.locator('li[data-type="notification.sent"]').textContent()).toMatch(/sent to mummy by push/)
    expect(await trace.locator('li[data-type="notification.withdrawn"]').textContent()).toMatch(/withdrawn from mummy's push \(claimed\): claimed by mummy/)
    await shot(mummy.page, 'trace')
  }, 20_000)

  it('serves the app over HTTPS, where the page goes live over WSS on the same port', async () => {
    const https = t.hub.urls.https
    expect(https, 'the hub listens on HTTPS').toBeDefined()
    // The hub's certificate is signed by its own local CA, which this browser does not trust.
    const context = await browser.newContext({ ...PHONE, ignoreHTTPSErrors: true })
    try {
      const page = await context.newPage()
      await page.goto(`${https}/`)
      await page.getByLabel('User name').fill('daddy')
      await page.getByLabel('Password').fill(PASSWORDS.daddy)
      await page.getByRole('button', { name: 'Log in' }).click()
      await page.locator('.status[data-status="live"]').waitFor({ timeout: 10_000 })
      expect(await page.evaluate(() => window.isSecureContext)).toBe(true)
      expect((await context.cookies()).find((c) => c.name === 'hf_session')).toMatchObject({ httpOnly: true, secure: true })
      await expect.poll(() => page.locator('li[data-thing="kitchen/lily-cup"] .value').textContent()).toBe('filled')
    } finally {
      await context.close()
    }
  }, 20_000)

  it('refuses a wrong password with the hub\'s message, and the page holds no session', async () => {
    const stranger = await openPhone()
    try {
      await logIn(stranger, 'mummy', 'not-her-password')
      await expect.poll(() => stranger.page.locator('#login-error').textContent(), { timeout: 5000 }).toBe('wrong user name or password')
      expect((await stranger.context.cookies()).filter((c) => c.name === 'hf_session')).toStrictEqual([])
      expect(await stranger.page.evaluate(async () => (await fetch('/api/session', { credentials: 'same-origin' })).status)).toBe(401)
      expect(await stranger.page.locator('#board').count()).toBe(0)
      // Repeated failures are throttled, and the page says how long to wait (last: it locks this address out).
      let message = ''
      for (let i = 0; i < 8 && !message.startsWith('too many'); i++) {
        await stranger.page.getByLabel('Password').fill('not-her-password')
        await stranger.page.getByRole('button', { name: 'Log in' }).click()
        await stranger.page.locator('#login-error:not(:empty)').waitFor({ timeout: 5000 })
        message = (await stranger.page.locator('#login-error').textContent()) ?? ''
      }
      expect(message).toMatch(/^too many attempts, try again in \d+ s$/)
    } finally {
      await stranger.context.close()
    }
  }, 15_000)
})
