// The fastify and jwks steps: Tessera's JWKS against a bare Fastify route serving the same bytes, each run in fresh processes.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { assert, checkJwks, fetchJwks } from '../lib/checks.js'
import { type Bench, RESULTS } from '../lib/context.js'
import { log } from '../lib/log.js'
import { type Cpu, fromRuns, type Measured, measure } from '../lib/measure.js'
import { stop } from '../lib/proc.js'
import type { LoadResult } from '../lib/protocol.js'
import { startBaseline, startTessera } from '../lib/server.js'
import { fmt } from '../lib/stats.js'

const PATH = '/.well-known/jwks.json'

/** One window of the bare Fastify route serving `jwks`, in a process of its own. */
async function bareJwksRun(b: Bench, jwksFile: string, jwks: string, name: string): Promise<Measured> {
  const child = startBaseline(['fastify', '--jwks', jwksFile], { stdout: 'pipe' })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const line = out.split('\n')[0]
        if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port)
      })
      child.once('exit', (code) => reject(new Error(`bare fastify exited (${code})`)))
    })
    const url = `http://127.0.0.1:${port}`
    const { m } = await measure(b, child.pid!, name, { url, method: 'GET', path: PATH }, 1)
    assert((await (await fetch(`${url}${PATH}`)).text()) === jwks, 'bare Fastify serves the same JWKS bytes as Tessera')
    return m
  } finally {
    await stop(child)
  }
}

/** One window of Tessera's JWKS, in a Tessera process of its own on the run's database and keys. */
async function tesseraJwksRun(b: Bench, jwks: string, name: string): Promise<{ m: Measured; check: string }> {
  const server = await startTessera(b)
  try {
    const { m } = await measure(b, server.child.pid!, name, { url: server.base, method: 'GET', path: PATH }, 1)
    assert((await fetchJwks(server.target)).body === jwks, 'every Tessera process serves the same JWKS bytes')
    return { m, check: await checkJwks(server.target) }
  } finally {
    await stop(server.child)
  }
}

/** Runs measured one per process, as one row: the median of the runs, the non-2xx and errors of all. */
export function perProcess(name: string, measured: Measured[], extra: Partial<Measured>): Measured {
  const mean = (f: (c: Cpu) => number) => Number((measured.reduce((n, m) => n + (m.cpu ? f(m.cpu) : 0), 0) / measured.length).toFixed(2))
  return fromRuns(
    name,
    measured.flatMap((m) => m.runs as LoadResult['runs']),
    {
      non2xx: measured.reduce((n, m) => n + m.non2xx, 0),
      errors: measured.reduce((n, m) => n + m.errors, 0),
      cpu: { server: mean((c) => c.server), generator: mean((c) => c.generator) },
      ...extra,
    },
  )
}

/**
 * The JWKS and its baseline, the bare Fastify route serving the same bytes: each of the plan's
 * runs in a fresh process of each, alternating (bare then Tessera, Tessera then bare, …), so that
 * neither side's figure is one process's draw and a drift over the minutes reaches both alike.
 * A route this cheap (tens of µs a request) costs what its process's JIT and the host's
 * neighbours make it: the bare route alone used 35 to 55 µs of CPU a request from one process to
 * the next on a busy machine (BENCHMARKS.md, Method).
 */
export async function jwks(b: Bench): Promise<void> {
  const bytes = (await fetchJwks(b.server.target)).body
  const jwksFile = join(RESULTS, `jwks-${b.stamp}.json`)
  writeFileSync(jwksFile, bytes)
  const bare: Measured[] = []
  const tessera: Measured[] = []
  let check = ''
  for (let i = 0; i < b.plan.runs; i++) {
    const sides = i % 2 === 0 ? (['fastify', 'jwks'] as const) : (['jwks', 'fastify'] as const)
    for (const side of sides) {
      if (!b.wanted(side)) continue
      const label = ` (run ${i + 1}, a fresh process)`
      if (side === 'fastify') bare.push(await bareJwksRun(b, jwksFile, bytes, `baseline: bare Fastify 5, same JWKS bytes${label}`))
      else {
        const r = await tesseraJwksRun(b, bytes, `GET /.well-known/jwks.json${label}`)
        tessera.push(r.m)
        check = r.check
      }
    }
    const [bareRun, tesseraRun] = [bare[i], tessera[i]]
    if (bareRun && tesseraRun)
      log(`  run ${i + 1}: Tessera ${fmt(tesseraRun.rps)} ÷ bare ${fmt(bareRun.rps)} req/s = ${(tesseraRun.rps / bareRun.rps).toFixed(3)}`)
  }
  const each = (ms: Measured[]) => `runs in ${ms.length} fresh processes, alternating with the other side: ${ms.map((m) => fmt(m.rps)).join(' / ')} req/s`
  if (bare.length)
    b.results.fastify = perProcess('baseline: bare Fastify 5, same JWKS bytes', bare, { check: 'serves the same bytes as Tessera', note: each(bare) })
  if (tessera.length) b.results.jwks = perProcess('GET /.well-known/jwks.json', tessera, { check, note: each(tessera) })
}
