/**
 * The relay a room hands its messages to: one of `count`, by an FNV-1a hash of the room id;
 * `node` names the edge process in a self-hosted edge of several (each has its own relays).
 */
export function relayFor(roomId: string, count: number, node = ''): string {
  let h = 0x811c9dc5
  for (let i = 0; i < roomId.length; i++) h = Math.imul(h ^ roomId.charCodeAt(i), 0x01000193)
  return `relay-${node ? `${node}-` : ''}${(h >>> 0) % count}`
}
