# syntax=docker/dockerfile:1
# Tessera's image: built with the full toolchain, run with production dependencies only,
# as a non-root user.
#
#   docker build -t tessera .
#   docker run -p 3000:3000 -e KEY_ENCRYPTION_KEY=$(openssl rand -hex 32) \
#     -e DATABASE_URL=postgres://… -e ISSUER=https://id.example.com tessera
#
# Keep KEY_ENCRYPTION_KEY: the signing keys in the database are sealed with it.

# Debian bookworm, glibc: argon2 loads its prebuilt linux-x64 binary (no compiler needed).
# package.json requires Node >= 20.19. Pin a digest (node:20-bookworm-slim@sha256:…) for
# reproducible builds.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true
# `npm ci` runs the `prepare` script, which builds (prisma generate, then tsc): the
# sources must be in place first. The npm cache mount keeps a rebuild after a source
# change from downloading every package again.
COPY package.json package-lock.json ./
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY prisma/ prisma/
COPY src/ src/
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund \
 && test -f dist/server.js \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /app
# SHUTDOWN_TIMEOUT below `docker stop`'s 10 s grace, so that the drain ends before SIGKILL.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    SHUTDOWN_TIMEOUT=8s
# Read-only to the app (owned by root); the embedded database's directory is the only
# place it writes, and only when DATABASE_URL is unset (mount a volume there). It must be the
# app user's only (0700): Tessera refuses a database directory open to group or others.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
# Migrations are read at start, from prisma/migrations next to dist/.
COPY --from=build /app/prisma/ prisma/
RUN mkdir -p -m 700 data && chown node:node data
# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 3000
# No curl in the slim image: Node's own fetch asks the liveness endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 (no npm in between): `docker stop`'s SIGTERM reaches the server, which drains.
CMD ["node", "dist/server.js"]
