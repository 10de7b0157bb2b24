// "Notify me on this phone": a Web Push subscription for the hub's VAPID key, stored by the hub.
import { api } from './api.js'

const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - s.length % 4) % 4)), (c) => c.charCodeAt(0))

/** The push state of this browser: on, off, blocked, unsupported (no secure context) or no-push. */
export class Push {
  state = 'off'
  error = ''

  constructor (onChange) {
    this.onChange = onChange
  }

  async #registration () {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' })
    return navigator.serviceWorker.ready
  }

  #set (state, error = '') {
    this.state = state
    this.error = error
    this.onChange()
  }

  async check () {
    if (!window.isSecureContext) return this.#set('unsupported')
    if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return this.#set('no-push')
    if (Notification.permission === 'denied') return this.#set('blocked')
    const reg = await navigator.serviceWorker.getRegistration('/')
    const sub = await reg?.pushManager.getSubscription().catch(() => null)
    this.#set(sub && Notification.permission === 'granted' ? 'on' : 'off')
  }

  async on () {
    this.#set('working')
    try {
      const permission = await Notification.requestPermission()
      if (permission !== 'granted') return this.#set(permission === 'denied' ? 'blocked' : 'off')
      const reg = await this.#registration()
      const { publicKey } = await api.pushKey()
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64(publicKey) })
      await api.addSubscription(sub.toJSON())
      this.#set('on')
    } catch (err) {
      this.#set('off', `could not turn notifications on: ${err.message}`)
    }
  }

  async off () {
    this.#set('working')
    await this.forget()
    this.#set('off')
  }

  /** Drops this browser's subscription here and at the hub (on logout too: the phone may change hands). */
  async forget () {
    const reg = await navigator.serviceWorker?.getRegistration('/').catch(() => null)
    const sub = await reg?.pushManager.getSubscription().catch(() => null)
    if (!sub) return
    await api.removeSubscription(sub.endpoint).catch(() => {})
    await sub.unsubscribe().catch(() => {})
  }
}
