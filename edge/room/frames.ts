import { type ClientFrame, clientFrame } from '../../shared/protocol'

const encoder = new TextEncoder()

/** UTF-8 length at most `max`, skipping the encoding when the UTF-16 length already decides. */
export function fitsIn(s: string, max: number): boolean {
  if (s.length > max) return false
  if (s.length * 3 <= max) return true
  return encoder.encode(s).byteLength <= max
}

export type ReadFrame =
  | { ok: true; frame: ClientFrame }
  | { ok: false; tooLarge: true }
  | { ok: false; tooLarge: false; message: string }

/** One incoming WebSocket message as a client frame, or why not. */
export function readFrame(message: string | ArrayBuffer, maxBytes: number): ReadFrame {
  const tooLarge =
    typeof message === 'string' ? !fitsIn(message, maxBytes) : message.byteLength > maxBytes
  if (tooLarge) return { ok: false, tooLarge: true }
  if (typeof message !== 'string')
    return { ok: false, tooLarge: false, message: 'Frames are JSON text' }
  let value: unknown
  try {
    value = JSON.parse(message)
  } catch {
    return { ok: false, tooLarge: false, message: 'Bad frame: not JSON' }
  }
  const parsed = clientFrame.safeParse(value)
  if (parsed.success) return { ok: true, frame: parsed.data }
  const issue = parsed.error.issues[0]
  return {
    ok: false,
    tooLarge: false,
    message: `Bad frame: ${issue?.path.join('.') || 'frame'}: ${issue?.message ?? 'invalid'}`,
  }
}
