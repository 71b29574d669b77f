import { swaggerUI } from '@hono/swagger-ui'
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Handler } from 'hono'
import { routes } from '../shared/api'
import type { AppEnv } from './env'

let document: unknown

/** The OpenAPI 3.1 document, built once per isolate from the zod routes in shared/api.ts. */
function build(): unknown {
  const generator = new OpenAPIHono()
  const registry = generator.openAPIRegistry
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  })
  for (const route of Object.values(routes)) registry.registerPath(route)
  return generator.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Plaza API',
      version: '1.0.0',
      description:
        'Every error is `{"error": {"code", "message", "details"?}}`. Responses carry RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset; cached reads carry x-cache and ETag.',
    },
  })
}

export const openapiDocument = (): Handler<AppEnv> => (c) => {
  document ??= build()
  return c.json(document as object)
}

/** Swagger UI, its assets from the edge's own static files (swagger-ui-dist, dev/web.ts): no CDN. */
export const apiDocs = () => swaggerUI({ url: '/openapi.json', title: 'Plaza API', baseUrl: '' })
