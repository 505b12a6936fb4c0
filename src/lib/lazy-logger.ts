// Fastify makes a child logger (bound to the request id) for every request. With pino's
// redaction that costs a few percent of a JWKS request even when nothing is logged at the
// level in force. This child is made on the first line actually written, and never otherwise.
// A class, not closures: one small allocation per request.
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, LevelWithSilent } from 'pino'

const RANK: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity }

class LazyChild {
  #real: FastifyBaseLogger | undefined
  #level: string

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {
    this.#level = opts.level ?? parent.level
  }

  #get(): FastifyBaseLogger {
    this.#real ??= this.parent.child(this.bindings, this.opts)
    return this.#real
  }

  #write(method: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', args: unknown[]): void {
    if (RANK[method]! < RANK[this.level]!) return
    ;(this.#get()[method] as (...a: unknown[]) => void)(...args)
  }

  get level(): string {
    return this.#real?.level ?? this.#level
  }

  set level(value: string) {
    this.#get().level = value as LevelWithSilent
  }

  isLevelEnabled(level: string): boolean {
    return RANK[level]! >= RANK[this.level]!
  }

  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#get().child(bindings, opts)
  }

  silent(): void {}
  trace(...args: unknown[]): void {
    this.#write('trace', args)
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args)
  }
  info(...args: unknown[]): void {
    this.#write('info', args)
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args)
  }
  error(...args: unknown[]): void {
    this.#write('error', args)
  }
  fatal(...args: unknown[]): void {
    this.#write('fatal', args)
  }
}

export function lazyChild(parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions = {}): FastifyBaseLogger {
  return new LazyChild(parent, bindings, opts) as unknown as FastifyBaseLogger
}
