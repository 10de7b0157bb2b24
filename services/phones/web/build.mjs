// The household web app: bundle the page script with the browser build of mqtt.js into
// dist/app.js, copy the shell (HTML, service worker, manifest, icon, styles) next to it, and
// draw the PNG icons that Android's install prompt and iOS's home screen need.
import { build } from 'esbuild'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))
mkdirSync(here('./dist'), { recursive: true })
await build({
  entryPoints: [here('./src/app.js')],
  outfile: here('./dist/app.js'),
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning'
})
for (const f of ['index.html', 'sw.js', 'style.css', 'manifest.webmanifest', 'icon.svg']) copyFileSync(here(`./src/${f}`), here(`./dist/${f}`))
for (const size of [192, 512]) writeFileSync(here(`./dist/icon-${size}.png`), icon(size))

/** icon.svg's house, drawn as an RGBA PNG of `size` × `size` (full bleed, so it is maskable). */
function icon (size) {
  const u = size / 512
  const inHouse = (x, y) => {
    const roof = y >= 104 * u && y <= 232 * u && Math.abs(x - 256 * u) <= (y - 104 * u) * (160 / 128)
    const walls = x >= 96 * u && x <= 416 * u && y >= 232 * u && y <= 408 * u
    const door = x >= 208 * u && x <= 304 * u && y >= 296 * u
    return (roof || walls) && !door
  }
  const raw = Buffer.alloc(size * (size * 4 + 1))
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sun = (x - 256 * u) ** 2 + (y - 220 * u) ** 2 <= (28 * u) ** 2
      const [r, g, b] = sun ? [0xf2, 0xb1, 0x34] : inHouse(x, y) ? [0xff, 0xff, 0xff] : [0x1f, 0x6f, 0x5c]
      raw.set([r, g, b, 255], y * (size * 4 + 1) + 1 + x * 4)
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const td = Buffer.concat([Buffer.from(type), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(td))
    return Buffer.concat([len, td, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0)
  ihdr.writeUInt32BE(size, 4)
  ihdr.set([8, 6, 0, 0, 0], 8)
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))])
}

function crc32 (buf) {
  let c = ~0
  for (const byte of buf) {
    c ^= byte
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1))
  }
  return ~c >>> 0
}
