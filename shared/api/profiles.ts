import { createRoute, z } from '@hono/zod-openapi'
import type { profiles } from '../schema'
import { text, timestamp, UserId } from './fields'
import {
  bearer,
  commonErrors,
  error,
  json,
  jsonBody,
  notModified,
  pageOf,
  pageQuery,
} from './openapi'

export const ProfileSchema = z
  .object({
    id: UserId,
    displayName: z.string(),
    bio: z.string(),
    avatarUrl: z.string().nullable(),
    location: z.string().nullable(),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .openapi('Profile')
export type Profile = z.infer<typeof ProfileSchema>

export const ProfilePageSchema = pageOf(ProfileSchema, 'ProfilePage')
export type ProfilePage = z.infer<typeof ProfilePageSchema>

export const ProfilePatch = z
  .object({
    displayName: text(64).pipe(z.string().min(1)).optional(),
    bio: text(500).optional(),
    avatarUrl: z
      .url({ protocol: /^https$/, error: 'must be an https URL' })
      .max(2048)
      .nullable()
      .optional(),
    location: text(100).nullable().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'at least one field is required')
  .openapi('ProfilePatch')

/** A profile row as the API shows it. */
export function toProfile(row: typeof profiles.$inferSelect): Profile {
  return {
    id: row.userId,
    displayName: row.displayName,
    bio: row.bio,
    avatarUrl: row.avatarUrl,
    location: row.location,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

export const profileRoutes = {
  listProfiles: createRoute({
    method: 'get',
    path: '/v1/profiles',
    tags: ['profiles'],
    request: { query: pageQuery(200) },
    responses: {
      200: json(ProfilePageSchema, 'A page, in a stable order'),
      304: notModified,
      ...commonErrors,
    },
  }),
  getProfile: createRoute({
    method: 'get',
    path: '/v1/profiles/{id}',
    tags: ['profiles'],
    request: { params: z.object({ id: UserId }) },
    responses: {
      200: json(ProfileSchema, 'The profile (x-cache: HIT | MISS | STALE | BYPASS)'),
      304: notModified,
      404: error('No such profile'),
      ...commonErrors,
    },
  }),
  patchProfile: createRoute({
    method: 'patch',
    path: '/v1/profiles/{id}',
    tags: ['profiles'],
    security: bearer,
    request: { params: z.object({ id: UserId }), body: jsonBody(ProfilePatch) },
    responses: {
      200: json(ProfileSchema, 'Updated; every later read sees it'),
      401: error('No valid access token'),
      403: error('Not your profile'),
      404: error('No such profile'),
      ...commonErrors,
    },
  }),
} as const
