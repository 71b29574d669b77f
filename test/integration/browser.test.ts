import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../dev/stack'
import { freshEmail, freshIp } from '../support/api'
import { launchChromium } from '../support/browser'
import { startTestStack } from '../support/stack'

// Must-show 6: two headless-Chromium pages chat through the page the edge serves.
let stack: Stack
let browser: Browser

beforeAll(async () => {
  stack = await startTestStack()
  browser = await launchChromium()
}, 300_000)

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

async function signUp(name: string): Promise<Page> {
  const context = await browser.newContext()
  // Each "person" comes from their own address, so sign-up limits are theirs alone.
  await context.setExtraHTTPHeaders({ 'cf-connecting-ip': freshIp() })
  const page = await context.newPage()
  await page.goto(`${stack.urls.edge}/`)
  await page.fill('input[name=email]', freshEmail(name.toLowerCase()))
  await page.fill('input[name=password]', 'correct horse battery')
  await page.fill('input[name=displayName]', name)
  await page.click('button[value=register]')
  await page.waitForSelector('#lobby:not([hidden])')
  expect(await page.textContent('#whoami')).toContain(name)
  return page
}

const messages = (page: Page) =>
  page.$$eval('#messages li', (items) =>
    items.map(
      (li) =>
        `${li.querySelector('.author')?.textContent}: ${li.querySelector('.body')?.textContent}`,
    ),
  )

describe('the web page', () => {
  it('lets two people chat in a room, with presence and typing', async () => {
    const ada = await signUp('Ada')
    await ada.fill('#new-room input[name=name]', 'Browser chat')
    await ada.click('#new-room button')
    await ada.waitForSelector('#chat:not([hidden])')
    await ada.waitForFunction(() => document.querySelector('#status')?.textContent === 'open')

    const bob = await signUp('Bob')
    await bob.click('#rooms a:text("Browser chat")')
    await bob.waitForSelector('#chat:not([hidden])')
    await bob.waitForFunction(() => document.querySelector('#status')?.textContent === 'open')

    await ada.waitForFunction(() =>
      document.querySelector('#presence')?.textContent?.includes('Bob'),
    )
    await bob.waitForFunction(() =>
      document.querySelector('#presence')?.textContent?.includes('Ada'),
    )

    await ada.fill('#composer input[name=body]', 'Hello Bob, from a browser')
    await ada.press('#composer input[name=body]', 'Enter')
    await bob.waitForFunction(() =>
      document.querySelector('#messages')?.textContent?.includes('Hello Bob'),
    )

    await bob.type('#composer input[name=body]', 'Hi Ada')
    await ada.waitForFunction(() =>
      document.querySelector('#typing')?.textContent?.includes('Bob is typing'),
    )
    await bob.press('#composer input[name=body]', 'Enter')
    await ada.waitForFunction(() =>
      document.querySelector('#messages')?.textContent?.includes('Hi Ada'),
    )

    await ada.waitForFunction(
      () => !document.querySelector('#messages')?.textContent?.includes('…'),
    )
    await bob.waitForFunction(
      () => !document.querySelector('#messages')?.textContent?.includes('…'),
    )
    const expected = ['Ada: Hello Bob, from a browser', 'Bob: Hi Ada']
    expect(await messages(ada)).toEqual(expected)
    expect(await messages(bob)).toEqual(expected)

    // A reload keeps the session and the conversation (history, then live).
    await bob.reload()
    await bob.waitForFunction(() => document.querySelectorAll('#messages li').length === 2)
    await bob.waitForFunction(
      () => !document.querySelector('#messages')?.textContent?.includes('…'),
    )
    expect(await messages(bob)).toEqual(expected)
  }, 120_000)
})

describe('the API docs', () => {
  it('render offline: every request /docs makes stays on the edge, and none fails', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const requested: string[] = []
    const failed: string[] = []
    page.on('request', (r) => requested.push(r.url()))
    page.on('requestfailed', (r) => failed.push(r.url()))
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`)
    })
    await page.goto(`${stack.urls.edge}/docs`)
    // Swagger UI has read /openapi.json and drawn an operation for each route.
    await page.waitForSelector('.swagger-ui .opblock', { timeout: 30_000 })
    expect(await page.locator('.swagger-ui .opblock').count()).toBeGreaterThan(10)
    await page.waitForTimeout(500)
    expect(requested.filter((url) => !url.startsWith(stack.urls.edge))).toEqual([])
    expect(requested.some((url) => url.endsWith('/swagger-ui-dist/swagger-ui-bundle.js'))).toBe(
      true,
    )
    expect(failed).toEqual([])
    // The favicon browsers ask for exists (it was a 404 before).
    const icon = await fetch(`${stack.urls.edge}/favicon.ico`)
    expect(icon.status).toBe(200)
    expect(icon.headers.get('content-type')).toMatch(/icon/)
    await context.close()
  }, 60_000)
})
