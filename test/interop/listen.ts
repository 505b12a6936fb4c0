// A really listening Tessera for interoperability tests: third-party clients speak HTTP to it,
// so its issuer must be the very URL it listens on.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Built, build, type Leg } from '../helpers/build.js'
import type { TestClient } from '../helpers/factories.js'
import { freePort } from '../helpers/process.js'

export interface Listening extends Built {
  issuer: string
}

/** Builds Tessera with ISSUER=http://127.0.0.1:PORT and listens there; closed at teardown. */
export async function listeningTessera(t: { teardown(fn: () => unknown): void }, leg: Leg, env: Record<string, string> = {}): Promise<Listening> {
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const built = await build(t, leg, { env: { ISSUER: issuer, ...env } })
  await built.app.listen({ host: '127.0.0.1', port })
  return { ...built, issuer }
}

/** Starts a plain node server on a free loopback port; closed (connections too) at teardown. */
export async function listenOnLoopback(t: { teardown(fn: () => unknown): void }, server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

/** POST /token over real HTTP as a form, authenticated with Basic. */
export async function tokenOverHttp(issuer: string, client: TestClient, params: Record<string, string>) {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.basic },
    body: new URLSearchParams(params),
  })
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`)
  return (await res.json()) as { access_token: string; refresh_token?: string; token_type: string; expires_in: number; scope: string }
}
