// Where a request came from, as audit rows and refresh families record it.
import type { FastifyRequest } from 'fastify'
import type { RequestMeta } from '../audit/trail.js'

export const requestMeta = (req: FastifyRequest): RequestMeta => ({
  ip: req.ip ?? null,
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 512) : null,
})
