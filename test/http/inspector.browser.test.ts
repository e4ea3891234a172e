/// <reference lib="dom" />
// The inspector page end to end in headless Chromium (Debian's chromium, driven by playwright-core;
// no browser is downloaded): rows appear, a failure shows within a second through the live stream,
// countdowns move, a phone can read it, and the console stays clean. UPDATE_SCREENSHOT=1 saves the
// screenshot the README shows to docs/inspector.png.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type HealthHandler, healthHandler } from '../../src/http/index.js'
import { Resources } from '../../src/index.js'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = fileURLToPath(new URL('../../docs/inspector.png', import.meta.url))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the inspector page in Chromium', () => {
  let profile: string
  let browser: BrowserContext
  let page: Page
  let resources: Resources
  let handler: HealthHandler
  let url: string
  let server: Server
  const problems: string[] = []
  const down = new Set<string>()

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`)
    resources = new Resources({ interval: '30s', retry: { initial: '10s' } })
    const loader =
      (name: string, value: unknown, ms: number) =>
      async ({ signal }: { signal: AbortSignal }) => {
        await sleep(ms * (0.5 + Math.random()))
        signal.throwIfAborted()
        if (down.has(name)) throw new Error(`${name}: connect ECONNREFUSED 10.0.0.7:443`)
        return value
      }
    resources.define('exchange-rates', loader('exchange-rates', { EUR: 1.08 }, 40))
    resources.define('feature-flags', loader('feature-flags', { beta: true }, 15), { interval: '10s' })
    resources.define('k8s-pods', loader('k8s-pods', ['api-1', 'api-2'], 60), { maxStale: '2m' })
    resources.define('recommendations', loader('recommendations', [], 80), { critical: false })
    resources.define('<script>alert(1)</script>', loader('<script>alert(1)</script>', 1, 5))
    handler = healthHandler(resources, { actions: true, title: 'evergreen · checkout-service' })
    server = createServer(handler)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await resources.start({ wait: true })
    // A few loads each, for the sparklines.
    for (let i = 0; i < 6; i++)
      await Promise.all(resources.names().map((n) => resources.resource(n).refresh()))

    profile = mkdtempSync(join(tmpdir(), 'evergreen-chromium-'))
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1180, height: 640 },
    })
    page = browser.pages()[0] ?? (await browser.newPage())
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(error.message))
    await page.goto(`${url}/`)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    handler?.close()
    await new Promise((resolve) => server?.close(resolve))
    await resources?.stop()
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
  })

  const row = (name: string) => page.locator(`article.row[data-name="${name.replaceAll('"', '\\"')}"]`)

  it('shows one row per resource from the live stream, names as text', async () => {
    await page.waitForFunction(() => document.getElementById('conn')?.textContent?.startsWith('updated'))
    await expect.poll(() => page.locator('article.row').count()).toBe(5)
    expect(await row('<script>alert(1)</script>').locator('.name').textContent()).toBe(
      '<script>alert(1)</script>',
    )
    expect(await page.evaluate(() => document.querySelectorAll('script').length)).toBe(1)
    expect(await row('exchange-rates').locator('.status').textContent()).toBe('ready')
    expect(await page.locator('#ready').textContent()).toBe('ready')
  })

  it('moves the countdown to the next refresh between updates', async () => {
    const next = row('exchange-rates').locator('.facts span:nth-child(2) b')
    const seconds = async () => Number.parseFloat((await next.textContent()) ?? 'NaN')
    const before = await seconds()
    await sleep(700)
    const after = await seconds()
    expect(before).toBeGreaterThan(after)
    expect(before - after).toBeGreaterThan(0.3)
  })

  it('turns a failing resource visibly degraded within a second', async () => {
    const ready = await row('k8s-pods').evaluate((el) => getComputedStyle(el).borderLeftColor)
    down.add('k8s-pods')
    down.add('recommendations')
    const failedAt = performance.now()
    await Promise.all([
      resources
        .resource('k8s-pods')
        .refresh()
        .catch(() => {}),
      resources
        .resource('recommendations')
        .refresh()
        .catch(() => {}),
    ])
    await page.waitForFunction(
      () => document.querySelector('article.row[data-name="k8s-pods"]')?.classList.contains('st-degraded'),
      undefined,
      { timeout: 1_000 },
    )
    expect(performance.now() - failedAt).toBeLessThan(1_000)
    const pods = row('k8s-pods')
    expect(await pods.locator('.status').textContent()).toBe('degraded')
    expect(await pods.evaluate((el) => getComputedStyle(el).borderLeftColor)).not.toBe(ready)
    expect(await pods.locator('.since').textContent()).toMatch(/^failing since /)
    expect(await pods.locator('.errors li').first().textContent()).toContain('ECONNREFUSED')
    // The degraded resources come first; an optional one does not make the service unready.
    await expect.poll(() => page.locator('article.row').first().getAttribute('data-name')).toBe('k8s-pods')
    expect(await page.locator('#ready').textContent()).toBe('ready')
    expect(await row('recommendations').locator('.crit').textContent()).toBe('optional')
    if (process.env.UPDATE_SCREENSHOT === '1') {
      await sleep(300)
      const height = await page.evaluate(() =>
        Math.ceil(document.getElementById('rows')!.getBoundingClientRect().bottom),
      )
      await page.screenshot({ path: SCREENSHOT, clip: { x: 0, y: 0, width: 1180, height: height + 8 } })
    }
  })

  it('fits a phone screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await sleep(100)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
  })

  it('logged no console errors or warnings', () => {
    expect(problems).toEqual([])
  })
})
