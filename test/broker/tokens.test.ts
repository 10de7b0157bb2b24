import { describe, expect, it } from 'vitest'
import { MqttTokens } from '../../broker/tokens.ts'

describe('MQTT tokens', () => {
  const secret = Buffer.alloc(24, 7)

  it('are valid for their user until they expire', () => {
    let now = 1_000_000
    const tokens = new MqttTokens(secret, 60_000, () => now)
    const { token, expiresAt } = tokens.issue('mummy')
    expect(expiresAt.getTime()).toBe(1_060_000)
    expect(tokens.verify('mummy', token)).toBe(true)
    expect(tokens.verify('daddy', token)).toBe(false)
    now = 1_059_999
    expect(tokens.verify('mummy', token)).toBe(true)
    now = 1_060_000
    expect(tokens.verify('mummy', token)).toBe(false)
  })

  it('are refused under another secret, or when any character changes', () => {
    const tokens = new MqttTokens(secret, 60_000)
    const { token } = tokens.issue('mummy')
    expect(new MqttTokens(Buffer.alloc(24, 8), 60_000).verify('mummy', token)).toBe(false)
    // Every character, changed to every other base64url character.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const accepted: string[] = []
    for (let i = 0; i < token.length; i++) {
      for (const c of alphabet) {
        if (c === token[i]) continue
        const changed = token.slice(0, i) + c + token.slice(i + 1)
        if (tokens.verify('mummy', changed)) accepted.push(changed)
      }
    }
    expect(accepted).toStrictEqual([])
    expect(tokens.verify('mummy', 'a plain password')).toBe(false)
  })
})
