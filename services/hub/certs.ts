import { X509Certificate, createPrivateKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { hostname, networkInterfaces } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import forge from 'node-forge'
import type { Logger } from 'pino'
import { HomefactsError, type Code } from '#contract'

/**
 * The hub's local CA and the HTTPS certificate it issues. Phones need HTTPS (a secure
 * context) for service workers, Web Push and installing the web app; they trust the CA once.
 */

/** Stable code of every certificate error. */
export const CERTS: 'HF_CERTS' = 'HF_CERTS'

/**
 * A missing, broken or unwritable certificate file. It extends `HomefactsError` so the CLI prints
 * its one-line message; `HF_CERTS` is not in `Codes` yet, hence the cast.
 */
export class CertError extends HomefactsError {
  constructor (message: string) {
    super(CERTS as unknown as Code, message)
    this.name = 'CertError'
  }
}

/** The certificate files in `dir` and what the server certificate covers. */
export interface CertFiles {
  dir: string
  caCert: string
  caKey: string
  cert: string
  key: string
  /** SHA-256 of the CA certificate, colon hex (as phones and `openssl x509 -fingerprint -sha256` show it). */
  caFingerprint: string
  /** The server certificate's subject alternative names: DNS names, then IP addresses. */
  names: string[]
  /** What this call made: a new CA, a new server certificate. */
  issued: { ca: boolean, server: boolean }
}

export interface CertOptions {
  /** Extra DNS names for the server certificate. */
  names?: string[]
  /** Extra IP addresses for the server certificate. */
  addresses?: string[]
  log?: Logger
}

const DAY = 86_400_000
/** iOS refuses TLS server certificates valid for more than 825 days (Apple, HT210176). */
const SERVER_DAYS = 825
const CA_YEARS = 10
/** Re-issue this long before the server certificate expires, so a phone never sees it lapse. */
const RENEW_DAYS = 30
/** Phones with a clock a little behind still accept a certificate issued just now. */
const BACKDATE_MS = 3_600_000

const files = (dir: string): Omit<CertFiles, 'caFingerprint' | 'names' | 'issued'> => {
  const d = resolve(dir)
  return { dir: d, caCert: join(d, 'ca.crt'), caKey: join(d, 'ca.key'), cert: join(d, 'server.crt'), key: join(d, 'server.key') }
}

/**
 * The names the server certificate covers: localhost, this host's name and its mDNS name,
 * loopback and every non-internal address of this machine, plus the extras.
 */
export function subjectNames (opts: Pick<CertOptions, 'names' | 'addresses'> = {}): { dns: string[], ips: string[] } {
  const host = hostname().toLowerCase()
  const dns = ['localhost', host, `${host.split('.')[0]}.local`, ...(opts.names ?? []).map((n) => n.toLowerCase())]
  for (const n of dns) {
    if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(n)) throw new CertError(`"${n}" is not a DNS name (--name)`)
  }
  const ips = ['127.0.0.1', '::1']
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal) ips.push(a.address)
  }
  for (const a of opts.addresses ?? []) {
    if (isIP(a) === 0) throw new CertError(`"${a}" is not an IP address (--ip)`)
    ips.push(a)
  }
  return { dns: [...new Set(dns)], ips: [...new Set(ips)] }
}

/**
 * Makes what is missing in `dir`: the CA (`ca.crt`, `ca.key`) and the server certificate
 * (`server.crt`, `server.key`). An existing CA is always kept, since phones trust it. The server
 * certificate is re-issued when it is missing, expires within 30 days, was not issued by this CA,
 * or does not cover the current names. A file that cannot be read or parsed is an error, never
 * silently replaced: `homefacts certs` is the way to issue a new one.
 */
export async function ensureCertificates (dir: string, opts: CertOptions = {}): Promise<CertFiles> {
  return await issue(dir, opts, { newCa: false, newServer: false })
}

/**
 * What `homefacts certs` does: always issues a new server certificate; keeps the CA unless
 * `newCa`, which every phone must then trust again.
 */
export async function regenerateCertificates (dir: string, opts: CertOptions & { newCa?: boolean } = {}): Promise<CertFiles> {
  return await issue(dir, opts, { newCa: opts.newCa === true, newServer: true })
}

/** The response for `GET /ca.crt`: the CA in DER, which Android and iOS both install from a download. */
export function caDownload (dir: string): { headers: Record<string, string>, body: Buffer } {
  const f = files(dir)
  const ca = parseCert(f.caCert, read(f.caCert, 'homefacts certs'), 'homefacts certs --new-ca')
  return {
    headers: { 'content-type': 'application/x-x509-ca-cert', 'content-disposition': 'attachment; filename="homefacts-ca.crt"', 'cache-control': 'no-store' },
    body: ca.raw
  }
}

async function issue (dir: string, opts: CertOptions, force: { newCa: boolean, newServer: boolean }): Promise<CertFiles> {
  const f = files(dir)
  const { dns, ips } = subjectNames(opts)
  const names = [...dns, ...ips]
  try {
    mkdirSync(f.dir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new CertError(`cannot create the certificates folder ${f.dir}: ${(err as Error).message}`)
  }
  const issued = { ca: false, server: false }
  let ca = force.newCa ? undefined : loadCa(f)
  if (!ca) {
    ca = await makeCa()
    writePair(f.caKey, ca.keyPem, f.caCert, ca.certPem)
    issued.ca = true
    opts.log?.info({ file: f.caCert, fingerprint: ca.cert.fingerprint256 }, 'created the local CA')
  }
  if (issued.ca || force.newServer || !serverIsGood(f, ca.cert, dns, ips)) {
    const server = await makeServer(ca, dns, ips)
    writePair(f.key, server.keyPem, f.cert, server.certPem)
    issued.server = true
    opts.log?.info({ file: f.cert, names, validTo: new X509Certificate(server.certPem).validTo }, 'issued the HTTPS certificate')
  }
  return { ...f, caFingerprint: ca.cert.fingerprint256, names, issued }
}

interface Ca { cert: X509Certificate, certPem: string, keyPem: string }

function loadCa (f: ReturnType<typeof files>): Ca | undefined {
  const certPem = read(f.caCert, undefined)
  const keyPem = read(f.caKey, undefined)
  if (certPem === undefined && keyPem === undefined) return undefined
  const fix = 'restore it from a backup, or run `homefacts certs --new-ca` for a new CA (every phone must then trust the new one)'
  if (certPem === undefined) throw new CertError(`${f.caCert} is missing but ${f.caKey} exists: ${fix}`)
  if (keyPem === undefined) throw new CertError(`${f.caKey} is missing but ${f.caCert} exists: ${fix}`)
  const cert = parseCert(f.caCert, certPem, fix)
  const key = parseKey(f.caKey, keyPem, fix)
  if (!cert.checkPrivateKey(key)) throw new CertError(`${f.caKey} is not the key of ${f.caCert}: ${fix}`)
  return { cert, certPem, keyPem }
}

function serverIsGood (f: ReturnType<typeof files>, ca: X509Certificate, dns: string[], ips: string[]): boolean {
  const certPem = read(f.cert, undefined)
  const keyPem = read(f.key, undefined)
  if (certPem === undefined || keyPem === undefined) return false
  const fix = `run \`homefacts certs\` to issue a new one (or delete ${join(f.dir, 'server.*')})`
  const cert = parseCert(f.cert, certPem, fix)
  const key = parseKey(f.key, keyPem, fix)
  if (!cert.checkPrivateKey(key)) throw new CertError(`${f.key} is not the key of ${f.cert}: ${fix}`)
  if (Date.parse(cert.validTo) - Date.now() < RENEW_DAYS * DAY) return false
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false
  return dns.every((n) => cert.checkHost(n, { wildcards: false }) === n) && ips.every((ip) => cert.checkIP(ip) !== undefined)
}

async function makeCa (): Promise<Ca> {
  const host = hostname()
  const { key, keyPem } = await newKey()
  const c = newCert(key, CA_YEARS * 365 * DAY)
  const subject = [{ name: 'commonName', value: `homefacts local CA (${host})` }, { name: 'organizationName', value: 'homefacts' }]
  c.setSubject(subject)
  c.setIssuer(subject)
  c.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' }
  ])
  c.sign(key, forge.md.sha256.create())
  const certPem = forge.pki.certificateToPem(c)
  return { cert: new X509Certificate(certPem), certPem, keyPem }
}

async function makeServer (ca: Ca, dns: string[], ips: string[]): Promise<{ certPem: string, keyPem: string }> {
  const caCert = forge.pki.certificateFromPem(ca.certPem)
  const caKey = forge.pki.privateKeyFromPem(pkcs1(ca.keyPem))
  const { key, keyPem } = await newKey()
  const c = newCert(key, SERVER_DAYS * DAY)
  c.setSubject([{ name: 'commonName', value: dns[1] ?? 'localhost' }, { name: 'organizationName', value: 'homefacts' }])
  c.setIssuer(caCert.subject.attributes)
  c.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...dns.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() }
  ])
  c.sign(caKey, forge.md.sha256.create())
  return { certPem: forge.pki.certificateToPem(c), keyPem }
}

/**
 * node:crypto makes the RSA key (forge's pure-JS generation takes seconds); forge signs. On the
 * thread pool, so the hub already accepts MQTT while its two keys are made.
 */
async function newKey (): Promise<{ key: forge.pki.rsa.PrivateKey, keyPem: string }> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 })
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return { key: forge.pki.privateKeyFromPem(pkcs1(keyPem)), keyPem }
}

function newCert (key: forge.pki.rsa.PrivateKey, lifetimeMs: number): forge.pki.Certificate {
  const c = forge.pki.createCertificate()
  c.publicKey = forge.pki.setRsaPublicKey(key.n, key.e)
  // A positive 128-bit serial: the top bit clear so DER does not read it as negative.
  const serial = randomBytes(16)
  serial[0] = serial[0]! & 0x7f | 0x01
  c.serialNumber = serial.toString('hex')
  const notBefore = new Date(Date.now() - BACKDATE_MS)
  c.validity.notBefore = notBefore
  c.validity.notAfter = new Date(notBefore.getTime() + lifetimeMs)
  return c
}

const pkcs1 = (pem: string): string => createPrivateKey(pem).export({ type: 'pkcs1', format: 'pem' }).toString()

/** The file's text, or undefined when it does not exist (and `missingFix` is undefined). */
function read (path: string, missingFix: string): string
function read (path: string, missingFix: undefined): string | undefined
function read (path: string, missingFix: string | undefined): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && missingFix === undefined) return undefined
    if (code === 'ENOENT') throw new CertError(`${path} does not exist: run \`${missingFix}\``)
    throw new CertError(`cannot read ${path} (${code ?? (err as Error).message})`)
  }
}

function parseCert (path: string, pem: string, fix: string): X509Certificate {
  try {
    return new X509Certificate(pem)
  } catch {
    throw new CertError(`${path} is not a PEM certificate: ${fix}`)
  }
}

function parseKey (path: string, pem: string, fix: string): KeyObject {
  try {
    return createPrivateKey(pem)
  } catch {
    throw new CertError(`${path} is not a PEM private key: ${fix}`)
  }
}

/** Writes the key (0600) then its certificate, each through a temporary file so no reader sees half a file. */
function writePair (keyPath: string, keyPem: string, certPath: string, certPem: string): void {
  for (const [path, text, mode] of [[keyPath, keyPem, 0o600], [certPath, certPem, 0o644]] as const) {
    const tmp = `${path}.${process.pid}.tmp`
    try {
      writeFileSync(tmp, text, { mode })
      chmodSync(tmp, mode) // the umask may have narrowed or (for an existing tmp) not applied the mode
      renameSync(tmp, path)
    } catch (err) {
      throw new CertError(`cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
}
