import { createHash } from 'node:crypto'
import { encodeTime } from 'ulid'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * A ULID of `time` whose random part is derived from `key`: a fact made again after a crash has
 * the same id, so it is one fact to every consumer that dedups by id.
 */
export function stableId (time: number, key: string): string {
  const hash = createHash('sha256').update(key).digest()
  let tail = ''
  for (let i = 0; i < 16; i++) tail += CROCKFORD[hash[i]! % 32]
  return encodeTime(Math.max(0, Math.floor(time)), 10) + tail
}
