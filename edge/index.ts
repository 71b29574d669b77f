import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import { ApiError } from '../shared/errors'
import { notFound, onError } from '../shared/http'
import { drain } from './drain'
import type { AppEnv } from './env'
import { health } from './health'
import { errorFields, log } from './log'
import { accessLog } from './middleware/access-log'
import { authenticate, requireAuth } from './middleware/auth'
import { edgeConfig } from './middleware/config'
import { forwardToOrigin } from './middleware/forward'
import { rateLimit } from './middleware/ratelimit'
import { apiDocs, openapiDocument } from './openapi'
import { dashboardReads } from './routes/dashboard'
import { historyRoutes } from './routes/history'
import { internalRoutes } from './routes/internal'
import { liveRoutes } from './routes/live'
import { profileReads } from './routes/profiles'
import { publishRoutes } from './routes/publish'
import { rankingReads } from './routes/rankings'
import { roomLive } from './routes/room-live'
import { roomRoutes } from './routes/rooms'

// The request's path through the edge, top to bottom (DESIGN §1).
const app = new Hono<AppEnv>()

app.use(requestId())
app.use(accessLog())
app.use(secureHeaders())
app.use(edgeConfig())
app.use(
  cors({
    origin: (origin, c) => {
      const allowed = (c.get('config') as AppEnv['Variables']['config']).CORS_ORIGINS
      return allowed.includes('*') || allowed.includes(origin) ? origin : null
    },
    allowMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'If-None-Match', 'X-Request-Id'],
    exposeHeaders: [
      'X-Request-Id',
      'ETag',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Content-Disposition',
      'X-Cache',
    ],
    maxAge: 600,
  }),
)
app.use(async (c, next) => {
  const limit = c.get('config').BODY_LIMIT_BYTES
  return bodyLimit({
    maxSize: limit,
    onError: () => {
      throw new ApiError('payload_too_large', `Request body is larger than ${limit} bytes`, {
        details: { limitBytes: limit },
      })
    },
  })(c, next)
})

// Public (load balancers), so limited like any anonymous caller; details for operators only.
// An error answered before the body was read (401, 404, 429…) would leave bytes unread on
// the connection, and closing it then can reset the client before it reads the answer.
// A 413's body is read too, but only so far (a client sending more is reset anyway):
// unread, its connection reset the client's next request on it (seen in CI).
app.use(async (c, next) => {
  await next()
  const req = c.req.raw
  if (c.res.status < 400 || !req.body || req.bodyUsed) return
  await drain(req.body, c.res.status === 413 ? 1 << 20 : Number.POSITIVE_INFINITY)
})

app.get('/health', rateLimit(), health())
app.get('/.well-known/jwks.json', (c) => {
  c.header('Cache-Control', 'public, max-age=300')
  return c.json(c.get('config').JWT_JWKS)
})
app.get('/openapi.json', openapiDocument())
app.get('/docs', apiDocs())
app.route('/', internalRoutes)
app.route('/', liveRoutes)

// Signed by a trusted backend, not a user: before the user's token check.
app.route('/', publishRoutes)
app.use('/v1/*', authenticate())
app.route('/', profileReads)
app.route('/', dashboardReads)
app.route('/', rankingReads)
app.route('/', roomRoutes)
app.route('/', roomLive)
app.route('/', historyRoutes)
app.get('/v1/me', rateLimit(), requireAuth(), forwardToOrigin())
app.post('/v1/auth/register', rateLimit({ auth: true }), forwardToOrigin())
app.post('/v1/auth/login', rateLimit({ auth: true }), forwardToOrigin())
app.patch('/v1/profiles/:id', rateLimit(), requireAuth(), forwardToOrigin())
app.on(['POST', 'PUT', 'PATCH', 'DELETE'], '/v1/*', rateLimit(), forwardToOrigin())

// Everything that is not the API is the demo page (web/dist), from Workers static assets.
app.notFound(async (c) => {
  const path = c.req.path
  const api = path.startsWith('/v1/') || path.startsWith('/internal/')
  if (!api && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
    const file = await c.env.ASSETS.fetch(c.req.raw)
    if (file.status !== 404) return file
  }
  return notFound(c)
})
app.onError(
  onError((err, c) =>
    log('error', 'unhandled error', {
      reqId: c.get('requestId'),
      path: c.req.path,
      ...errorFields(err),
    }),
  ),
)

export default app
export { LiveDashboard } from './live'
export { Relay } from './relay'
export { Room } from './room'
