import {
  bigint,
  boolean,
  char,
  datetime,
  index,
  int,
  mysqlTable,
  primaryKey,
  text,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core'

/*
 * The v1 data (DESIGN §4). Ids are ULIDs made by the application. No foreign keys:
 * PlanetScale/Vitess shards by room_id and does not enforce them across shards, so
 * integrity is kept by the origin's writes. Timestamps are UTC with millisecond precision.
 */

const ulid = (name: string) => char(name, { length: 26 })
const createdAt = () => datetime('created_at', { mode: 'date', fsp: 3 }).notNull()

export const users = mysqlTable(
  'users',
  {
    id: ulid('id').primaryKey(),
    email: varchar('email', { length: 254 }).notNull(),
    passwordHash: varchar('password_hash', { length: 255 }).notNull(),
    /** `user`, or `admin` — granted only by an operator (`npm run admin:grant`), never by the API. */
    role: varchar('role', { length: 16 }).notNull().default('user'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_email_uq').on(t.email)],
)

export const profiles = mysqlTable('profiles', {
  userId: ulid('user_id').primaryKey(),
  displayName: varchar('display_name', { length: 64 }).notNull(),
  bio: varchar('bio', { length: 500 }).notNull().default(''),
  avatarUrl: varchar('avatar_url', { length: 2048 }),
  location: varchar('location', { length: 100 }),
  createdAt: createdAt(),
  updatedAt: datetime('updated_at', { mode: 'date', fsp: 3 }).notNull(),
})

export const refreshTokens = mysqlTable(
  'refresh_tokens',
  {
    id: ulid('id').primaryKey(),
    userId: ulid('user_id').notNull(),
    /** Every token issued from one login shares a family; reuse of a rotated token revokes it. */
    familyId: ulid('family_id').notNull(),
    /** SHA-256 of the opaque token, hex: the token itself is never stored. */
    tokenHash: char('token_hash', { length: 64 }).notNull(),
    expiresAt: datetime('expires_at', { mode: 'date', fsp: 3 }).notNull(),
    rotatedAt: datetime('rotated_at', { mode: 'date', fsp: 3 }),
    revokedAt: datetime('revoked_at', { mode: 'date', fsp: 3 }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_uq').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_user_idx').on(t.userId),
  ],
)

export const rooms = mysqlTable(
  'rooms',
  {
    id: ulid('id').primaryKey(),
    name: varchar('name', { length: 100 }).notNull(),
    isPrivate: boolean('is_private').notNull().default(false),
    ownerId: ulid('owner_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('rooms_created_idx').on(t.createdAt, t.id)],
)

export const roomMembers = mysqlTable(
  'room_members',
  {
    roomId: ulid('room_id').notNull(),
    userId: ulid('user_id').notNull(),
    role: varchar('role', { length: 16 }).notNull().default('member'),
    lastReadSeq: bigint('last_read_seq', { mode: 'number', unsigned: true }).notNull().default(0),
    joinedAt: datetime('joined_at', { mode: 'date', fsp: 3 }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.roomId, t.userId] }),
    index('room_members_user_idx').on(t.userId),
  ],
)

/** A stored message's columns: the live table and its archive share them. */
const messageColumns = () => ({
  /** The shard key: every hot query is scoped by it. */
  roomId: ulid('room_id').notNull(),
  seq: bigint('seq', { mode: 'number', unsigned: true }).notNull(),
  id: ulid('id').notNull(),
  authorId: ulid('author_id').notNull(),
  clientMsgId: varchar('client_msg_id', { length: 64 }),
  body: text('body').notNull(),
  bodyBytes: int('body_bytes', { unsigned: true }).notNull(),
  createdAt: createdAt(),
})

export const messages = mysqlTable('messages', messageColumns(), (t) => [
  primaryKey({ columns: [t.roomId, t.seq] }),
  index('messages_room_created_idx').on(t.roomId, t.createdAt),
])

/**
 * Per room, per UTC hour: messages stored and distinct authors — the dashboards read these,
 * never the messages. Kept by the ingest in the batch's own transaction, counting only
 * messages that were new, so a batch shipped twice counts once. Sharded with the room.
 */
export const roomHourStats = mysqlTable(
  'room_hour_stats',
  {
    roomId: ulid('room_id').notNull(),
    hour: datetime('hour', { mode: 'date' }).notNull(),
    messages: int('messages', { unsigned: true }).notNull().default(0),
    authors: int('authors', { unsigned: true }).notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.roomId, t.hour] }),
    index('room_hour_stats_hour_idx').on(t.hour),
  ],
)

/** Who wrote in a room in an hour: what makes `room_hour_stats.authors` distinct. */
export const roomHourAuthors = mysqlTable(
  'room_hour_authors',
  {
    roomId: ulid('room_id').notNull(),
    hour: datetime('hour', { mode: 'date' }).notNull(),
    authorId: ulid('author_id').notNull(),
    /** That author's messages in that room and hour: what user rankings rebuild from. */
    messages: int('messages', { unsigned: true }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.hour, t.authorId] })],
)

/**
 * Messages past the archive age (RETENTION_ARCHIVE_DAYS), moved out of `messages` by the
 * retention job in bounded batches per room; deleted from here past RETENTION_DELETE_DAYS.
 */
export const messagesArchive = mysqlTable(
  'messages_archive',
  { ...messageColumns(), archivedAt: datetime('archived_at', { mode: 'date', fsp: 3 }).notNull() },
  (t) => [
    primaryKey({ columns: [t.roomId, t.seq] }),
    index('messages_archive_room_created_idx').on(t.roomId, t.createdAt),
  ],
)

/**
 * Per room, how far retention has gone: seqs up to `archivedThrough` left `messages` for the
 * archive, up to `deletedThrough` are gone for good. History answers below them with 410.
 */
export const roomRetention = mysqlTable('room_retention', {
  roomId: ulid('room_id').primaryKey(),
  archivedThrough: bigint('archived_through', { mode: 'number', unsigned: true })
    .notNull()
    .default(0),
  deletedThrough: bigint('deleted_through', { mode: 'number', unsigned: true })
    .notNull()
    .default(0),
  updatedAt: datetime('updated_at', { mode: 'date', fsp: 3 }).notNull(),
})

/**
 * A room owner's announcements: the app's record of what was announced, written in the
 * same transaction as its event in `room_event_outbox` (the transactional form of publish).
 */
export const roomAnnouncements = mysqlTable(
  'room_announcements',
  {
    id: ulid('id').primaryKey(),
    roomId: ulid('room_id').notNull(),
    authorId: ulid('author_id').notNull(),
    body: text('body').notNull(),
    /** The outbox event that carries it into the room. */
    eventId: ulid('event_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('room_announcements_room_idx').on(t.roomId, t.createdAt)],
)

/**
 * The transactional outbox: events an origin write commits together with its own rows,
 * published into their room by the origin's relay with the row's id as idempotency key.
 */
export const roomEventOutbox = mysqlTable(
  'room_event_outbox',
  {
    id: ulid('id').primaryKey(),
    roomId: ulid('room_id').notNull(),
    body: text('body').notNull(),
    createdAt: createdAt(),
    publishedAt: datetime('published_at', { mode: 'date', fsp: 3 }),
    /** The seq the room gave it, once published. */
    seq: bigint('seq', { mode: 'number', unsigned: true }),
    attempts: int('attempts', { unsigned: true }).notNull().default(0),
  },
  (t) => [index('room_event_outbox_pending_idx').on(t.publishedAt, t.createdAt)],
)

export type User = typeof users.$inferSelect
export type Profile = typeof profiles.$inferSelect
export type RefreshToken = typeof refreshTokens.$inferSelect
export type Room = typeof rooms.$inferSelect
export type RoomMember = typeof roomMembers.$inferSelect
export type Message = typeof messages.$inferSelect
