import type { EdgeConfig } from '../../shared/config'
import type { PresenceUser, ServerFrame } from '../../shared/protocol'

/**
 * The first frame a socket gets: the room, the last seq (the live stream continues after
 * it), who you are, who is here (bounded) and the room's limits, so the client can pace
 * itself instead of being refused.
 */
export function welcomeFrame(
  config: EdgeConfig,
  room: string,
  seq: number,
  you: PresenceUser,
  here: { presence: PresenceUser[]; online: number },
): ServerFrame {
  return {
    type: 'welcome',
    room,
    seq,
    you,
    ...here,
    limits: {
      framesPerSecond: config.ROOM_FLOOD_PER_SECOND,
      burst: config.ROOM_FLOOD_BURST,
      maxBodyBytes: config.ROOM_MAX_BODY_BYTES,
      maxFrameBytes: config.ROOM_MAX_FRAME_BYTES,
      userSendsPerSecond: config.ROOM_USER_SENDS_PER_SECOND,
      userSendsBurst: config.ROOM_USER_SENDS_BURST,
      maxSocketsPerUser: config.ROOM_MAX_SOCKETS_PER_USER,
    },
  }
}
