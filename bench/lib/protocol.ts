// What the orchestrator (bench/run.ts) and the load generator (bench/load.ts) say to each other.

/**
 * One HTTP load: a closed loop of `connections` keep-alive connections. It warms up for at
 * least `warmup` seconds and until every connection has had an answer (steady state, however
 * slow the endpoint), then measures `runs` consecutive windows of `seconds` each, and stops.
 * One continuous load: no run inherits requests a previous run left in flight.
 */
export interface LoadSpec {
  url: string
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  body?: string
  connections: number
  warmup: number
  runs: number
  seconds: number
}

/**
 * A refresh load: every request spends one token of the pool; every 200 puts the rotated token
 * back; a token in flight when the load stops is discarded, never presented again.
 */
export interface RefreshSpec extends Omit<LoadSpec, 'body'> {
  pool: string[]
}

/**
 * A load of single-use bodies (authorization codes): every request sends the next one, none is
 * sent twice; a request with none left sends `exhausted` (a visible non-2xx).
 */
export interface BodiesSpec extends Omit<LoadSpec, 'body'> {
  bodies: string[]
}

/** The event-loop storm: `storm` (password sign-ins) runs while an open-loop probe times `path`. */
export interface StormSpec {
  storm: LoadSpec
  /** Starts when the storm is at steady state; one window per storm run. */
  probe: { url: string; path: string; rate: number }
}

export type Task =
  | { id: number; kind: 'load'; spec: LoadSpec }
  | { id: number; kind: 'refresh'; spec: RefreshSpec }
  | { id: number; kind: 'storm'; spec: StormSpec }
  | { id: number; kind: 'bodies'; spec: BodiesSpec }

/** One measured window. Latencies are of 2xx answers, in milliseconds (exact, not histogram-bucketed). */
export interface RunResult {
  rps: number
  p50: number
  p99: number
  requests: number
  non2xx: number
  /** Connection errors and timeouts. */
  errors: number
  statusCodes: Record<string, number>
  /** Answers in each second of the window: how steady (or bursty) the endpoint answers. */
  perSecond: number[]
  seconds: number
}

export interface LoadResult {
  warmup: { seconds: number; requests: number }
  runs: RunResult[]
  /** Over the whole load, warm-up and stop included: every request sent counts. */
  non2xx: number
  errors: number
  statusCodes: Record<string, number>
  /** process.hrtime of the timed windows' start and end, in microseconds (CLOCK_MONOTONIC). */
  window: [number, number]
  /** One 2xx body of the load, for the correctness check. */
  sample?: string
}

export interface RefreshResult extends LoadResult {
  /** The pool after the load: every token here is its family's current one. */
  pool: string[]
  /** Tokens taken and not given back: in flight at the stop, or refused. */
  discarded: number
  /** Requests sent with no token left in the pool (0 whenever the pool is big enough). */
  exhausted: number
}

export interface BodiesResult extends LoadResult {
  /** Bodies sent (warm-up and stop included). */
  used: number
  /** Requests sent with no body left (0 whenever there were enough). */
  exhausted: number
}

export interface StormResult {
  storm: LoadResult
  probe: RunResult[]
}

export type Reply = { id: number; ok: true; result: LoadResult | RefreshResult | StormResult | BodiesResult } | { id: number; ok: false; error: string }
