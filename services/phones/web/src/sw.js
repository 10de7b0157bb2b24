// The web app's service worker: shows the hub's Web Push notifications and takes them back.
// A push is {"kind":"notify","tag",...} or {"kind":"withdraw","tag",...}; the tag is the fact id.
const SHELL_CACHE = 'homefacts-shell-v1'
const SHELL = ['/', '/app.js', '/style.css', '/manifest.webmanifest', '/icon.svg', '/icon-192.png', '/icon-512.png']

self.addEventListener('install', (event) => {
  // A shell that cannot be cached (offline at install) must not stop notifications working.
  event.waitUntil(caches.open(SHELL_CACHE).then((c) => c.addAll(SHELL)).catch(() => {}).then(() => self.skipWaiting()))
})
self.addEventListener('activate', (event) => event.waitUntil((async () => {
  for (const k of await caches.keys()) if (k !== SHELL_CACHE) await caches.delete(k)
  await self.clients.claim()
})()))

// Network first, so the app is never stale; the cached shell only when the hub is unreachable.
// The API and MQTT are never cached.
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url)
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/') || url.pathname === '/mqtt') return
  const shell = event.request.mode === 'navigate' ? '/' : url.pathname
  if (!SHELL.includes(shell)) return
  event.respondWith(fetch(event.request).then((res) => {
    if (res.ok) { const copy = res.clone(); caches.open(SHELL_CACHE).then((c) => c.put(shell, copy)) }
    return res
  }).catch(async () => (await caches.match(shell)) ?? Response.error()))
})

self.addEventListener('push', (event) => {
  const data = event.data ? event.data.json() : {}
  event.waitUntil(handle(data))
})

async function handle (data) {
  if (data.kind === 'withdraw') {
    // A browser requires every push to show a notification: replace the one under this tag
    // with a quiet one, then close it, so nothing about a resolved fact is left showing.
    await self.registration.showNotification(data.title || 'resolved', { tag: data.tag, body: data.body || '', silent: true, data: { withdrawn: true } })
    for (const n of await self.registration.getNotifications({ tag: data.tag })) n.close()
    return
  }
  const loud = data.priority === 'high' || data.priority === 'urgent'
  await self.registration.showNotification(data.title || 'homefacts', {
    tag: data.tag,
    body: data.body || '',
    icon: '/icon.svg',
    renotify: true,
    requireInteraction: loud,
    silent: data.priority === 'low',
    data: { url: data.url || '/' }
  })
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const url = new URL(event.notification.data?.url || '/', self.location.origin).href
  event.waitUntil((async () => {
    for (const c of await self.clients.matchAll({ type: 'window' })) {
      if (new URL(c.url).origin === self.location.origin) { await c.focus(); return c.navigate(url) }
    }
    return self.clients.openWindow(url)
  })())
})
