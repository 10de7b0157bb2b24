import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { caDownload, CERTS, CertError, ensureCertificates, regenerateCertificates, type CertFiles } from '../../services/hub/certs.ts'
import { BIN } from '../helpers/process.ts'

const DAY = 86_400_000
const dirs: string[] = []
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'homefacts-certs-'))
  dirs.push(d)
  return join(d, 'certs')
}
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

const pem = (path: string): X509Certificate => new X509Certificate(readFileSync(path))
const mode = (path: string): number => statSync(path).mode & 0o777

/** GETs / over HTTPS with `ca` as the only trusted root; resolves with the body or the TLS error code. */
function get (port: number, host: string, ca?: Buffer): Promise<{ body?: string, code?: string }> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', ...(ca ? { ca } : {}), servername: host === '127.0.0.1' ? '' : host }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => resolve({ body }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code! }))
    req.end()
  })
}

describe('the hub certificates', () => {
  let dir: string
  let c: CertFiles
  let server: Server
  let port: number
  beforeAll(async () => {
    dir = tempDir()
    c = await ensureCertificates(dir, { names: ['hub.example'], addresses: ['10.9.8.7'] })
    server = createServer({ cert: readFileSync(c.cert), key: readFileSync(c.key) }, (_req, res) => res.end('hello phone'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('makes the CA and the server certificate, with the keys readable by the owner only', () => {
    expect(c).toMatchObject({ dir, caCert: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), issued: { ca: true, server: true } })
    expect(mode(c.caKey)).toBe(0o600)
    expect(mode(c.key)).toBe(0o600)
    expect(c.caFingerprint).toBe(pem(c.caCert).fingerprint256)
    expect(c.caFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  })

  it('lets a client that trusts the CA connect to 127.0.0.1 and to localhost, and verifies the server', async () => {
    const ca = readFileSync(c.caCert)
    expect(await get(port, '127.0.0.1', ca)).toStrictEqual({ body: 'hello phone' })
    expect(await get(port, 'localhost', ca)).toStrictEqual({ body: 'hello phone' })
  })

  it('is refused by a client that does not trust the CA', async () => {
    expect(await get(port, '127.0.0.1')).toStrictEqual({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
  })

  it('issues a server certificate for this host that iOS accepts: SANs, serverAuth, at most 825 days', () => {
    const cert = pem(c.cert)
    const ca = pem(c.caCert)
    const sans = cert.subjectAltName!.split(', ')
    const host = hostname().toLowerCase()
    for (const n of ['DNS:localhost', `DNS:${host}`, `DNS:${host.split('.')[0]}.local`, 'DNS:hub.example', 'IP Address:127.0.0.1', 'IP Address:10.9.8.7']) expect(sans).toContain(n)
    expect(cert.checkIP('::1')).toBe('::1')
    expect(c.names.slice(0, 2)).toStrictEqual(['localhost', host])
    expect(c.names).toContain('10.9.8.7')
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBeLessThanOrEqual(825 * DAY)
    expect(cert.keyUsage).toStrictEqual(['1.3.6.1.5.5.7.3.1'])
    expect(cert.ca).toBe(false)
    expect(cert.checkIssued(ca)).toBe(true)
    expect(cert.verify(ca.publicKey)).toBe(true)
  })

  it('makes a 10-year CA with a clear name', () => {
    const ca = pem(c.caCert)
    expect(ca.ca).toBe(true)
    expect(ca.subject).toContain(`CN=homefacts local CA (${hostname()})`)
    expect(Date.parse(ca.validTo) - Date.parse(ca.validFrom)).toBe(3650 * DAY)
  })

  it('changes nothing when run again', async () => {
    const before = [readFileSync(c.caCert), readFileSync(c.caKey), readFileSync(c.cert), readFileSync(c.key)]
    const again = await ensureCertificates(dir, { names: ['hub.example'], addresses: ['10.9.8.7'] })
    expect(again).toStrictEqual({ ...c, issued: { ca: false, server: false } })
    expect([readFileSync(c.caCert), readFileSync(c.caKey), readFileSync(c.cert), readFileSync(c.key)]).toStrictEqual(before)
  })

  it('serves the CA for GET /ca.crt in DER with the CA content type', () => {
    const d = caDownload(dir)
    expect(d.headers['content-type']).toBe('application/x-x509-ca-cert')
    expect(new X509Certificate(d.body).fingerprint256).toBe(c.caFingerprint)
  })
})

describe('renewing the certificates', () => {
  it('re-issues the server certificate for a new name and keeps the CA', async () => {
    const dir = tempDir()
    const first = await ensureCertificates(dir)
    const serial = pem(first.cert).serialNumber
    const more = await ensureCertificates(dir, { names: ['kitchen-hub.lan'] })
    expect(more.issued).toStrictEqual({ ca: false, server: true })
    expect(more.caFingerprint).toBe(first.caFingerprint)
    expect(pem(more.cert).serialNumber).not.toBe(serial)
    expect(pem(more.cert).checkHost('kitchen-hub.lan')).toBe('kitchen-hub.lan')
  })

  it('regenerate keeps the CA and issues a new server certificate; with newCa it replaces both', async () => {
    const dir = tempDir()
    const first = await ensureCertificates(dir)
    const serial = pem(first.cert).serialNumber
    const kept = await regenerateCertificates(dir)
    expect(kept.issued).toStrictEqual({ ca: false, server: true })
    expect(kept.caFingerprint).toBe(first.caFingerprint)
    expect(pem(kept.cert).serialNumber).not.toBe(serial)
    const fresh = await regenerateCertificates(dir, { newCa: true })
    expect(fresh.issued).toStrictEqual({ ca: true, server: true })
    expect(fresh.caFingerprint).not.toBe(first.caFingerprint)
    expect(pem(fresh.cert).checkIssued(pem(fresh.caCert))).toBe(true)
  })

  it('refuses a corrupted server.crt with a coded error naming the file and the fix, which then works', async () => {
    const dir = tempDir()
    const first = await ensureCertificates(dir)
    writeFileSync(first.cert, 'not a certificate\n')
    const err = await ensureCertificates(dir).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CertError)
    expect((err as CertError).code).toBe(CERTS)
    expect((err as CertError).message).toContain(first.cert)
    expect((err as CertError).message).toContain('homefacts certs')
    const fixed = await regenerateCertificates(dir)
    expect(fixed.caFingerprint).toBe(first.caFingerprint)
    expect((await ensureCertificates(dir)).issued).toStrictEqual({ ca: false, server: false })
  })

  it('refuses a CA key without its certificate rather than making a CA phones do not trust', async () => {
    const dir = tempDir()
    const first = await ensureCertificates(dir)
    rmSync(first.caCert)
    await expect(ensureCertificates(dir)).rejects.toMatchObject({ code: CERTS, message: expect.stringContaining('--new-ca') })
  })
})

describe('homefacts certs', () => {
  const run = promisify(execFile)

  it('prints where the files are, the CA fingerprint, the names and the next step', async () => {
    const data = join(tempDir(), '..')
    const { stdout } = await run(BIN, ['certs', '--data-dir', data, '--name', 'hub.example', '--ip', '10.9.8.7'])
    const dir = join(data, 'certs')
    const ca = pem(join(dir, 'ca.crt'))
    const lines = stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(`certificates in ${dir}`)
    expect(lines[1]).toBe(`CA: ${join(dir, 'ca.crt')} (new: every phone must trust it)`)
    expect(lines[2]).toBe(`CA SHA-256 fingerprint: ${ca.fingerprint256}`)
    expect(lines[3]).toBe(`server certificate: ${join(dir, 'server.crt')}, key ${join(dir, 'server.key')}`)
    expect(lines[4]).toMatch(/^names: localhost, .*hub\.example, 127\.0\.0\.1, ::1, .*10\.9\.8\.7$/)
    expect(lines[5]).toBe('next: open http://<hub>:8080/ca.crt on the phone, then see docs/https.md, "Trusting the hub on a phone";')
    expect(mode(join(dir, 'server.key'))).toBe(0o600)
    expect(pem(join(dir, 'server.crt')).checkIssued(ca)).toBe(true)
    const again = await run(BIN, ['certs', '--data-dir', data])
    expect(again.stdout).toContain(`CA: ${join(dir, 'ca.crt')} (kept)`)
    expect(again.stdout).toContain(`CA SHA-256 fingerprint: ${ca.fingerprint256}`)
  })

  it('fails with one clear line and a non-zero exit code', async () => {
    const data = join(tempDir(), '..')
    const err = await run(BIN, ['certs', '--data-dir', data, '--ip', 'not-an-ip']).catch((e: unknown) => e) as { code: number, stdout: string, stderr: string }
    expect(err.code).toBe(1)
    expect(err.stderr).toBe('homefacts: "not-an-ip" is not an IP address (--ip)\n')
  })
})
