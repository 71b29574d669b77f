import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Debian's Chromium, headless, driven by playwright-core. Installed on first use when the
 * tests run as root on a Debian machine (as CI does), otherwise a clear instruction.
 */
export async function launchChromium() {
  if (!existsSync(executablePath)) {
    if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
      console.log('installing Debian chromium for the browser test (apt-get install chromium)…')
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
      execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      })
    } else {
      throw new Error(
        `No Chromium at ${executablePath}: install it (sudo apt-get install chromium) or set CHROMIUM_PATH`,
      )
    }
  }
  return chromium.launch({
    executablePath,
    headless: true,
    // The machine's network is closed: without these Chromium keeps dialling Google's hosts.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
