// What every step of bench/run.ts is given: the plan, the fixed shape of the run, and the run's processes and rows.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LoadGenerator } from './load-generator.js'
import type { Measured } from './measure.js'
import type { BenchClient, BenchUser, connect } from './seed.js'
import type { Server } from './server.js'

export const STEPS = [
  'sign',
  'node-sign',
  'argon2',
  'fastify',
  'jwks',
  'client_credentials',
  'limiter',
  'metrics',
  'introspect',
  'revocations',
  'password',
  'refresh',
  'authorization_code',
  'storm',
  'growth',
] as const
export type Step = (typeof STEPS)[number]
/** The Tessera loads --profile can run; --perf takes them too, and the jose sign baseline to set them against. */
export const PROFILED: Step[] = ['jwks', 'client_credentials', 'introspect', 'password', 'refresh']

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const RESULTS = join(ROOT, 'bench', 'results')
export const SERVER_CORE = 0
export const LOAD_CORE = 1

export const CONNECTIONS = 50
/** Refresh tokens ready before each refresh run: far more than can be in flight (one per connection). */
export const POOL_TARGET = 4 * CONNECTIONS
export const POOL_USERS = 20
export const FAMILIES_SMALL = 10_000
export const FAMILIES_LARGE = 1_000_000
export const PROBE_RATE = 200

export interface Plan {
  runs: number
  seconds: number
  warmup: number
  baselineRuns: number
  baselineSeconds: number
  baselineWarmup: number
}

export interface Bench {
  plan: Plan
  /** Tessera's LOG_LEVEL. */
  logLevel: string
  /** The run's time stamp, in the names of everything it writes to bench/results/. */
  stamp: string
  /** Where every Tessera process of the run writes its log. */
  logFile: string
  kek: string
  dbUrl: string
  db: Awaited<ReturnType<typeof connect>>
  lg: LoadGenerator
  /** The Tessera process the loads go to; --profile and --perf replace it for each load. */
  server: Server
  client: BenchClient
  /** The users the refresh pool signs in. */
  users: BenchUser[]
  passwordUser: BenchUser
  /** The user the seeded refresh families belong to. */
  growthUser: BenchUser
  /** Current refresh tokens, ready for the next refresh load. */
  pool: string[]
  nextUser: number
  wanted(step: Step): boolean
  /** The table's rows, in the order they were measured. */
  results: Record<string, Measured>
}
