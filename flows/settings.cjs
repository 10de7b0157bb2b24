// Node-RED settings for the hub's Node-RED child (services/hub/node-red.ts passes the values in
// HOMEFACTS_NR_* variables). The editor and the flows' HTTP endpoints use the hub's own users.
const { readFileSync } = require('node:fs')
const { scryptSync, timingSafeEqual } = require('node:crypto')

const env = process.env

// The hub's users file: `{"users":[{"username","role","password":"scrypt$N$r$p$<salt>$<hash>"}]}`
// (broker/users.ts). Re-read on every login, so `homefacts users add` takes effect at once.
function findUser (username) {
  try {
    return JSON.parse(readFileSync(env.HOMEFACTS_NR_USERS_FILE, 'utf8')).users.find((u) => u.username === username) || null
  } catch {
    return null
  }
}

function verify (password, stored) {
  const [, n, r, p, salt, hash] = String(stored).split('$')
  if (!n || !r || !p || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = scryptSync(String(password), Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 })
  return timingSafeEqual(actual, expected)
}

// Admins deploy; members may view. Every other role (devices, services) has no editor.
const permissionsOf = (role) => role === 'admin' ? '*' : role === 'member' ? 'read' : null

function editorUser (username) {
  const user = findUser(username)
  const permissions = user && permissionsOf(user.role)
  return permissions ? { username, permissions } : null
}

// When the hub goes away (even by kill -9) our stdin pipe closes: leave no orphan behind.
if (env.HOMEFACTS_NR_WATCH_PARENT === '1') {
  process.stdin.on('end', () => process.exit(0))
  process.stdin.on('close', () => process.exit(0))
  process.stdin.resume()
}

module.exports = {
  uiPort: Number(env.HOMEFACTS_NR_PORT || 1880),
  uiHost: env.HOMEFACTS_NR_HOST || '0.0.0.0',
  flowFile: 'flows.json',
  flowFilePretty: true,
  credentialSecret: env.HOMEFACTS_NR_CREDENTIAL_SECRET,
  adminAuth: {
    type: 'credentials',
    users: async (username) => editorUser(username),
    authenticate: async (username, password) => {
      const user = findUser(username)
      return user && permissionsOf(user.role) && verify(password, user.password) ? editorUser(username) : null
    }
  },
  // A flow's `http in` endpoints need the credentials of a hub admin or member too (HTTP Basic).
  httpNodeMiddleware: function (req, res, next) {
    const header = req.headers.authorization || ''
    const [scheme, value] = header.split(' ')
    if (scheme === 'Basic' && value) {
      const text = Buffer.from(value, 'base64').toString('utf8')
      const i = text.indexOf(':')
      const user = findUser(text.slice(0, i))
      if (user && permissionsOf(user.role) && verify(text.slice(i + 1), user.password)) return next()
    }
    res.set('WWW-Authenticate', 'Basic realm="homefacts"')
    res.sendStatus(401)
  },
  contextStorage: {
    default: { module: 'memory' },
    // No cache: every write is on disk at once, so a fact out's seq survives even a crash.
    file: { module: 'localfilesystem', config: { cache: false } }
  },
  logging: { console: { level: env.HOMEFACTS_NR_LOG_LEVEL || 'info', metrics: false, audit: false } },
  editorTheme: {
    page: { title: 'homefacts flows' },
    header: { title: 'homefacts flows' },
    projects: { enabled: false },
    tours: false
  },
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  functionExternalModules: false,
  exportGlobalContextKeys: false
}
