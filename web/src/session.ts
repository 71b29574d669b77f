/** What both pages keep of a sign-in: for this tab only (a reload keeps it, closing the tab signs out). */
export interface Session {
  userId: string
  displayName: string
  accessToken: string
  refreshToken: string
}

const KEY = 'plaza.session'

export const readSession = (): Session | null => JSON.parse(sessionStorage.getItem(KEY) ?? 'null')

export function writeSession(s: Session | null): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s))
  else sessionStorage.removeItem(KEY)
}

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
