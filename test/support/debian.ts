import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** A path must exist; a bare name must answer `--version` on the PATH. */
const runs = (program: string) => {
  if (program.startsWith('/')) return existsSync(program)
  try {
    execFileSync(program, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * A program the tests drive, from Debian's packages (.ci/run installs them): present, or
 * installed when the tests run as root on Debian, or a clear error naming the package.
 */
export function ensureDebianPackage(pkg: string, programs: string[]): void {
  if (programs.every(runs)) return
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`installing Debian ${pkg} (apt-get install ${pkg})…`)
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
  }
  if (!programs.every(runs)) {
    throw new Error(`No ${programs.join('/')}: install it (sudo apt-get install ${pkg})`)
  }
}
