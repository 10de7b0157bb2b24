import { X509Certificate, createHash, generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname, networkInterfaces } from 'node:os'
import { isIP } from 'node:net'
import { join } from 'node:path'
import forge from 'node-forge'
import type { Logger } from 'pino'

/** The files `homefacts certs` and the hub keep in `<dataDir>/certs`. */
export interface CertFiles {
  dir: string
  caCert: string
  caKey: string
  cert: string
  key: string
  /** SHA-256 of the CA certificate, colon-separated hex: what a phone shows before it trusts it. */
  caFingerprint: string
  /** The names and addresses the server certificate covers. */
  names: string[]
}

/** A certificate problem a user can fix, with how. */
export class CertError extends Error {
  readonly code = 'HF_CERTS'
}

const CA_DAYS = 3650
/** iOS refuses TLS server certificates valid for more than 825 days. */
const SERVER_DAYS = 825
const RENEW_DAYS = 30

/** Every name and address the hub is reached by: localhost, its host name (and `.local`), its interfaces. */
export function hubNames (extra: readonly string[] = []): string[] {
  const host = hostname().toLowerCase()
  const addresses = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal).map((i) => i!.address.replace(/%.*$/, ''))
  return [...new Set(['localhost', host, ...(host.includes('.') ? [] : [`${host}.local`]), '127.0.0.1', '::1', ...addresses, ...extra])]
}

const files = (dir: string) => ({ caCert: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') })

function fingerprint (pem: string): string {
  return createHash('sha256').update(Buffer.from(new X509Certificate(pem).raw)).digest('hex').toUpperCase().match(/../g)!.join(':')
}

function newKeys (): { privateKey: forge.pki.rsa.PrivateKey, publicKey: forge.pki.rsa.PublicKey, pem: string } {
  // node:crypto makes the key (native, fast); forge only builds the certificate around it.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
  const key = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e), pem: privateKey }
}

function serial (): string {
  // Positive, 16 random bytes (RFC 5280 §4.1.2.2).
  return '01' + forge.util.bytesToHex(forge.random.getBytesSync(15))
}

function makeCa (): { cert: string, key: string } {
  const keys = newKeys()
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = serial()
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + CA_DAYS * 86_400_000)
  const subject = [{ name: 'commonName', value: `homefacts local CA (${hostname()})` }, { name: 'organizationName', value: 'homefacts' }]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' }
  ])
  cert.sign(keys.privateKey, forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem }
}

function makeServer (ca: { cert: string, key: string }, names: readonly string[]): { cert: string, key: string } {
  const caCert = forge.pki.certificateFromPem(ca.cert)
  const caKey = forge.pki.privateKeyFromPem(ca.key)
  const keys = newKeys()
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = serial()
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + SERVER_DAYS * 86_400_000)
  cert.setSubject([{ name: 'commonName', value: names.find((n) => !isIP(n) && n !== 'localhost') ?? 'localhost' }])
  cert.setIssuer(caCert.subject.attributes)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((n) => isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() }
  ])
  cert.sign(caKey, forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem }
}

function read (path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new CertError(`cannot read ${path}: ${(err as Error).message}`)
  }
}

/** The names a certificate's SAN lists, as `hubNames` spells them. */
function coveredNames (pem: string): Set<string> {
  const san = new X509Certificate(pem).subjectAltName ?? ''
  return new Set(san.split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, '').toLowerCase()).map((n) => n === '0:0:0:0:0:0:0:1' ? '::1' : n))
}

/**
 * What the hub serves over HTTPS: a local CA (made once and always kept, so phones that trust
 * it keep trusting it) and a server certificate it signs for every name and address of the
 * hub. The server certificate is issued again when it is missing, expires within 30 days, or
 * does not cover a current name or address (a new Wi-Fi address, say), or when `renew` is set.
 */
export async function ensureCertificates (dir: string, opts: { names?: readonly string[], renew?: boolean, newCa?: boolean, log?: Logger } = {}): Promise<CertFiles> {
  const f = files(dir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  let ca: { cert: string, key: string }
  if (!opts.newCa && existsSync(f.caCert) && existsSync(f.caKey)) {
    ca = { cert: read(f.caCert), key: read(f.caKey) }
    try {
      forge.pki.certificateFromPem(ca.cert)
      forge.pki.privateKeyFromPem(ca.key)
    } catch (err) {
      throw new CertError(`the hub's CA in ${dir} is damaged (${(err as Error).message}); restore ca.crt and ca.key from a backup, or run "homefacts certs --new-ca" and trust the new CA on every phone again`)
    }
  } else {
    ca = makeCa()
    writeFileSync(f.caKey, ca.key, { mode: 0o600 })
    writeFileSync(f.caCert, ca.cert)
    opts.log?.info({ file: f.caCert, fingerprint: fingerprint(ca.cert) }, 'made a local CA for HTTPS; trust it on each phone (README, "Phones: HTTPS and trusting the hub")')
  }
  const names = hubNames(opts.names)
  if (opts.renew || opts.newCa || !serverIsCurrent(f, ca.cert, names)) {
    const server = makeServer(ca, names)
    writeFileSync(f.key, server.key, { mode: 0o600 })
    writeFileSync(f.cert, server.cert)
    opts.log?.info({ file: f.cert, names }, 'issued the HTTPS server certificate')
  }
  return { dir, ...f, caFingerprint: fingerprint(ca.cert), names: [...coveredNames(read(f.cert))] }
}

function serverIsCurrent (f: ReturnType<typeof files>, caPem: string, names: readonly string[]): boolean {
  if (!existsSync(f.cert) || !existsSync(f.key)) return false
  let cert: X509Certificate
  try {
    cert = new X509Certificate(readFileSync(f.cert))
  } catch {
    // A damaged server certificate is only a product of the CA: issue it again.
    return false
  }
  if (!cert.verify(new X509Certificate(caPem).publicKey)) return false
  if (Date.parse(cert.validTo) - Date.now() < RENEW_DAYS * 86_400_000) return false
  const covered = coveredNames(cert.toString())
  return names.every((n) => covered.has(n.toLowerCase()))
}
