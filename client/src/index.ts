/**
 * @plaza/client: typed calls to Plaza's API and live rooms with ordered, gapless,
 * exactly-once delivery. Works in browsers, Node and React Native.
 */
export type {
  Me,
  Membership,
  Presence,
  Profile,
  ProfilePage,
  Room,
  RoomPage,
  Session,
  Tokens,
} from '../../shared/api'
export type { Message, MessageFrame, MessagePage } from '../../shared/message'
export type { Ack, PresenceUser, ServerFrame } from '../../shared/protocol'
export { closeCodes, PROTOCOL } from '../../shared/protocol'
export { PlazaError } from './errors'
export { Plaza, type PlazaOptions } from './http'
export { newClientMsgId } from './ids'
export { RoomConnection, type RoomEvents, type RoomOptions, type Status } from './room-connection'
