/**
 * Echoes a room's `mark` (a room closes, 4408, a socket that does not: it stopped reading).
 * True when `text` was a mark. No imports: the client processes stay lean.
 */
export function answerMark(ws: { send(data: string): void }, text: string): boolean {
  if (!text.startsWith('{"type":"mark"')) return false
  const { id } = JSON.parse(text) as { id: string }
  ws.send(JSON.stringify({ type: 'marked', id }))
  return true
}
