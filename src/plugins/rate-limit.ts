// Per-address rate limits (docs/errors.md#rate-limited) with @fastify/rate-limit: each limited
// route counts the requests of one client address (the socket's, or the one TRUST_PROXY's
// proxies name) in a window, and answers 429 rate_limited with Retry-After over it. With
// REDIS_URL the counters live in Redis, so every instance enforces one limit; without, each
// process counts its own. If Redis goes away the limits are not enforced (fail open: an
// outage of Redis must not become an outage of sign-in) until it is back, and the log and
// /readyz say so.
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, RouteShorthandOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { RateLimit } from '../config/index.js'
import { RateLimited } from '../oauth/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    limits: {
      /** Route options that apply a limit (nothing for `null`: the limit is off). */
      route(limit: RateLimit | null): Pick<RouteShorthandOptions, 'config'>
      /** Where the counters are: shared in Redis, or in this process; `unavailable` while Redis is down. */
      status(): 'local' | 'shared' | 'unavailable'
    }
  }
}

async function limits(app: FastifyInstance) {
  const { config } = app
  let redis: Redis | undefined
  let redisUp = false
  if (config.redisUrl) {
    // Commands fail at once while disconnected (no offline queue), so a request never waits on Redis.
    redis = new Redis(config.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 1000,
      retryStrategy: (n) => Math.min(n * 200, 2000),
    })
    let warned = false
    redis.on('ready', () => {
      redisUp = true
      if (warned) app.log.warn('redis is back: rate limits are shared again')
      warned = false
    })
    redis.on('error', (err) => {
      redisUp = false
      if (!warned) app.log.warn({ err: { message: err.message } }, 'redis unreachable: per-address rate limits are not enforced until it is back')
      warned = true
    })
    app.addHook('onClose', async () => {
      redis?.disconnect()
    })
  }

  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: 'tessera-rl-' } : {}),
    skipOnError: true,
    // Retry-After on a 429 only: counting headers on every answer would cost the hot path.
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
    errorResponseBuilder: (_req, ctx) => new RateLimited(ctx.ttl / 1000),
    onExceeded: (req) => app.metrics.rateLimited.inc({ route: req.routeOptions.url ?? 'unknown' }),
  })

  app.decorate('limits', {
    route: (limit: RateLimit | null) => (limit ? { config: { rateLimit: { max: limit.max, timeWindow: limit.window * 1000 } } } : {}),
    status: () => (!redis ? 'local' : redisUp ? 'shared' : 'unavailable'),
  })
}

export default fp(limits, { name: 'rate-limits' })
