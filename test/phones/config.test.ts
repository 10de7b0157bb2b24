import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../services/hub/config.ts'

const withPhone = (phone: unknown) => ({ members: [{ name: 'mummy', phones: [phone] }] })

/** The household section as the hub reads it from its config file. */
function household (section: unknown) {
  const file = join(mkdtempSync(join(tmpdir(), 'homefacts-config-')), 'homefacts.config.json')
  writeFileSync(file, JSON.stringify({ household: section }))
  return loadConfig({ file }).household
}

describe('phone channels in the household config', () => {
  it('keeps ntfy and webhook, the kinds that really deliver', () => {
    const h = household({ members: [{ name: 'mummy', phones: [{ kind: 'ntfy', address: 'https://ntfy.sh/our-house', token: 'tk_1' }, { kind: 'webhook', address: 'http://sms-gateway.local/send' }] }] })
    expect(h.members[0]!.phones).toStrictEqual([{ kind: 'ntfy', address: 'https://ntfy.sh/our-house', token: 'tk_1' }, { kind: 'webhook', address: 'http://sms-gateway.local/send' }])
  })

  it.each([
    ['sms', '+447700900123', 'household.members.0.phones.0.kind: homefacts sends no SMS itself: use {"kind":"webhook","address":"<your SMS gateway URL>"}'],
    ['email', 'mummy@example.org', 'household.members.0.phones.0.kind: homefacts sends no e-mail itself: use {"kind":"webhook","address":"<your mail relay URL>"} or ntfy'],
    ['push', 'mummy-phone', 'household.members.0.phones.0.kind: Web Push needs no config: open the web app on the phone and tap "Notify me on this phone"'],
    ['pager', 'x', 'household.members.0.phones.0.kind: unknown channel kind "pager": use "ntfy" or "webhook"']
  ])('refuses kind %s with a clear config error', (kind, address, line) => {
    expect(() => household(withPhone({ kind, address }))).toThrowError(expect.objectContaining({ code: 'HF_CONFIG', message: expect.stringContaining(line) }))
  })

  it('refuses an address that is not an http(s) URL', () => {
    expect(() => household(withPhone({ kind: 'ntfy', address: 'our-house' }))).toThrowError(expect.objectContaining({ code: 'HF_CONFIG', message: expect.stringContaining('household.members.0.phones.0.address') }))
  })
})
