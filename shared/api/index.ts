import { accountRoutes } from './accounts'
import { dashboardRoutes } from './dashboard'
import { messageRoutes } from './messages'
import { profileRoutes } from './profiles'
import { publishRoutes } from './publish'
import { rankingRoutes } from './rankings'
import { roomRoutes } from './rooms'

/*
 * The v1 HTTP surface as zod schemas and OpenAPI routes, by resource: the origin
 * validates with them, the edge serves the document built from them, the SDK takes its
 * types from them. One definition, every runtime.
 */
export const routes = {
  ...accountRoutes,
  ...profileRoutes,
  ...roomRoutes,
  ...messageRoutes,
  ...dashboardRoutes,
  ...rankingRoutes,
  ...publishRoutes,
}

export * from './accounts'
export * from './dashboard'
export * from './fields'
export * from './messages'
export { ErrorSchema } from './openapi'
export * from './profiles'
export * from './publish'
export * from './rankings'
export * from './rooms'
