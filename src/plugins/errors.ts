// The root context's answers when no route group gives its own: unknown paths (404), wrong
// methods (405), and errors raised before any route runs, all in the JSON shape (docs/errors.md).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { sendError, useJsonErrors } from '../http/json-errors.js'
import { MethodNotAllowed, NotFound } from '../oauth/errors.js'

async function errors(app: FastifyInstance) {
  // Route patterns by method, to tell a wrong method (405) from an unknown path (404).
  const routes: { pattern: RegExp; method: string }[] = []
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const pattern = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`)
    for (const method of methods) routes.push({ pattern, method })
  })

  useJsonErrors(app)

  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? ''
    const allow = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))]
    return sendError(reply, allow.length > 0 ? new MethodNotAllowed(req.method, allow) : new NotFound(`No route for ${req.method} ${path}.`))
  })
}

export default fp(errors, { name: 'errors' })
