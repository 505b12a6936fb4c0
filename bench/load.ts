// The load generator: started by bench/run.ts under `taskset -c 1`, it runs one task at a time
// (autocannon, in this process) on the orders it gets over IPC and answers with the figures.
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon, { type Request } from 'autocannon'
import type {
  BodiesResult,
  BodiesSpec,
  LoadResult,
  LoadSpec,
  RefreshResult,
  RefreshSpec,
  Reply,
  RunResult,
  StormResult,
  StormSpec,
  Task,
} from './lib/protocol.js'
import { percentile } from './lib/stats.js'

/** However slow the endpoint, the warm-up ends after this many seconds. */
const WARMUP_MAX = 60

const micros = () => Number(process.hrtime.bigint() / 1000n)

/** What happened at each moment of a load: answers (time, status, latency) and errors (time). */
class Timeline {
  at: number[] = []
  status: number[] = []
  ms: number[] = []
  errors: number[] = []

  answer(at: number, status: number, ms: number) {
    this.at.push(at)
    this.status.push(status)
    this.ms.push(ms)
  }

  /** Consecutive windows of `seconds` from `start` (performance.now() ms). */
  windows(start: number, runs: number, seconds: number): RunResult[] {
    const span = seconds * 1000
    const buckets = Array.from({ length: runs }, () => ({
      latencies: [] as number[],
      requests: 0,
      non2xx: 0,
      errors: 0,
      statusCodes: {} as Record<string, number>,
      perSecond: new Array<number>(Math.ceil(seconds)).fill(0),
    }))
    const bucket = (t: number) => (t < start ? undefined : buckets[Math.floor((t - start) / span)])
    for (let i = 0; i < this.at.length; i++) {
      const b = bucket(this.at[i]!)
      if (!b) continue
      const code = this.status[i]!
      b.requests++
      b.perSecond[Math.floor(((this.at[i]! - start) % span) / 1000)]!++
      b.statusCodes[code] = (b.statusCodes[code] ?? 0) + 1
      if (code >= 200 && code < 300) b.latencies.push(this.ms[i]!)
      else b.non2xx++
    }
    for (const t of this.errors) {
      const b = bucket(t)
      if (b) b.errors++
    }
    return buckets.map((b) => ({
      rps: b.requests / seconds,
      p50: percentile(b.latencies, 50),
      p99: percentile(b.latencies, 99),
      requests: b.requests,
      non2xx: b.non2xx,
      errors: b.errors,
      statusCodes: b.statusCodes,
      perSecond: b.perSecond,
      seconds,
    }))
  }
}

/**
 * One continuous autocannon load: a warm-up until steady state, then `runs` windows, then stop.
 * `onSteady` is called when the windows begin.
 */
function cannon(spec: LoadSpec, requests?: Request[], onSteady?: () => void): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const timeline = new Timeline()
    const answered = new Set<unknown>()
    const timed = spec.runs * spec.seconds
    let sample: string | undefined
    let steadyAt: number | undefined
    let window: [number, number] = [0, 0]
    const t0 = performance.now()

    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        // An upper bound only: the load is stopped when its windows are done.
        duration: WARMUP_MAX + timed + 5,
        timeout: 30,
        method: spec.method,
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        requests: requests ?? [
          {
            method: spec.method,
            path: spec.path,
            ...(spec.body !== undefined ? { body: spec.body } : {}),
            // Keep one 2xx body for the correctness check.
            onResponse: (status, body) => {
              if (sample === undefined && status >= 200 && status < 300) sample = body
            },
          },
        ],
      },
      (err, res) => {
        clearTimeout(warmupLimit)
        if (err) return reject(err)
        if (steadyAt === undefined) return reject(new Error('the load stopped before its warm-up ended'))
        const statusCodes: Record<string, number> = {}
        for (const [code, { count }] of Object.entries(res.statusCodeStats)) statusCodes[code] = count
        resolve({
          warmup: { seconds: (steadyAt - t0) / 1000, requests: timeline.at.filter((t) => t < steadyAt!).length },
          runs: timeline.windows(steadyAt, spec.runs, spec.seconds),
          non2xx: res.non2xx,
          errors: res.errors,
          statusCodes,
          window,
          ...(sample !== undefined ? { sample } : {}),
        })
      },
    )

    const begin = () => {
      if (steadyAt !== undefined) return
      steadyAt = performance.now()
      const start = micros()
      window = [start, start + timed * 1_000_000]
      onSteady?.()
      setTimeout(() => instance.stop(), timed * 1000)
    }
    const warmupLimit = setTimeout(begin, WARMUP_MAX * 1000)

    instance.on('response', (client, status, _bytes, ms) => {
      const now = performance.now()
      timeline.answer(now, status, ms)
      // Steady state: the minimum warm-up is over and every connection has had an answer.
      if (steadyAt === undefined) {
        answered.add(client)
        if (now - t0 >= spec.warmup * 1000 && answered.size >= spec.connections) begin()
      }
    })
    instance.on('reqError', () => timeline.errors.push(performance.now()))
  })
}

/** The refresh pool: tokens go out one per request and come back rotated on a 200. */
async function refresh(spec: RefreshSpec): Promise<RefreshResult> {
  const pool = [...spec.pool]
  let head = 0
  let exhausted = 0
  let sample: string | undefined
  const take = (): string | undefined => {
    if (head >= pool.length) return undefined
    const token = pool[head++]
    // Drop what has been handed out now and then, so the queue does not grow with every request.
    if (head > 4096) {
      pool.splice(0, head)
      head = 0
    }
    return token
  }
  const request: Request = {
    method: 'POST',
    path: spec.path,
    setupRequest: (req) => {
      const token = take()
      if (token === undefined) exhausted++
      // An empty pool would be a harness bug; a bogus token makes it visible as a non-2xx.
      return { ...req, body: `grant_type=refresh_token&refresh_token=${token ?? 'pool-exhausted'}` }
    },
    onResponse: (status, body) => {
      // A refused token is spent or its family revoked: it never goes back.
      if (status !== 200) return
      sample ??= body
      const rotated = (JSON.parse(body) as { refresh_token?: string }).refresh_token
      if (rotated) pool.push(rotated)
    },
  }
  const { pool: _initial, ...load } = spec
  const result = await cannon(load, [request])
  // Everything taken and not given back was in flight at the stop, or refused: discarded.
  const back = pool.slice(head)
  return { ...result, ...(sample !== undefined ? { sample } : {}), pool: back, discarded: spec.pool.length - back.length, exhausted }
}

/** Single-use bodies (authorization codes): each request sends the next, none twice. */
async function bodies(spec: BodiesSpec): Promise<BodiesResult> {
  let next = 0
  let exhausted = 0
  let sample: string | undefined
  const request: Request = {
    method: 'POST',
    path: spec.path,
    setupRequest: (req) => {
      const body = spec.bodies[next]
      if (body === undefined) exhausted++
      else next++
      return { ...req, body: body ?? 'exhausted' }
    },
    onResponse: (status, body) => {
      if (status === 200) sample ??= body
    },
  }
  const { bodies: _all, ...load } = spec
  const result = await cannon(load, [request])
  return { ...result, ...(sample !== undefined ? { sample } : {}), used: next, exhausted }
}

/**
 * An open-loop probe: `rate` GETs a second for `runs` windows of `seconds`, each timed from its
 * own send whatever the server is doing (no coordinated omission), split into windows by send time.
 */
async function probe(p: StormSpec['probe'], runs: number, seconds: number): Promise<RunResult[]> {
  const url = new URL(p.url)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
  const timeline = new Timeline()
  const inFlight = new Set<Promise<void>>()
  const t0 = performance.now()
  const end = t0 + runs * seconds * 1000
  const interval = 1000 / p.rate
  // Bounded: one request per tick until the deadline, rate × runs × seconds of them at most.
  for (let next = t0; next < end; next += interval) {
    const sent = performance.now()
    const done = new Promise<void>((resolve) => {
      const req = http.get({ host: url.hostname, port: url.port, path: p.path, agent }, (res) => {
        res.resume()
        res.on('end', () => {
          // Filed under its send time, so a slow answer counts in the window it was asked in.
          timeline.answer(sent, res.statusCode ?? 0, performance.now() - sent)
          resolve()
        })
      })
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')))
      req.on('error', () => {
        timeline.errors.push(sent)
        resolve()
      })
    })
    inFlight.add(done)
    void done.then(() => inFlight.delete(done))
    const wait = next + interval - performance.now()
    if (wait > 0) await sleep(wait)
  }
  await Promise.all(inFlight)
  agent.destroy()
  return timeline.windows(t0, runs, seconds)
}

async function storm(spec: StormSpec): Promise<StormResult> {
  let probing: Promise<RunResult[]> | undefined
  const stormResult = await cannon(spec.storm, undefined, () => {
    probing = probe(spec.probe, spec.storm.runs, spec.storm.seconds)
  })
  if (!probing) throw new Error('the storm never reached steady state')
  return { storm: stormResult, probe: await probing }
}

function perform(task: Task): Promise<LoadResult | RefreshResult | StormResult | BodiesResult> {
  switch (task.kind) {
    case 'load':
      return cannon(task.spec)
    case 'refresh':
      return refresh(task.spec)
    case 'storm':
      return storm(task.spec)
    case 'bodies':
      return bodies(task.spec)
  }
}

if (!process.send) {
  process.stderr.write('bench/load.ts is started by bench/run.ts (it needs an IPC channel)\n')
  process.exit(2)
}

process.on('message', (task: Task) => {
  perform(task).then(
    (result) => process.send!({ id: task.id, ok: true, result } satisfies Reply),
    (err: Error) => process.send!({ id: task.id, ok: false, error: err.stack ?? String(err) } satisfies Reply),
  )
})
// The orchestrator going away ends the worker.
process.on('disconnect', () => process.exit(0))
