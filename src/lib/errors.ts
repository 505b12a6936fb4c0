// The base of every error written for the operator rather than for an API client: a bad
// setting, an unreachable or unmigrated database, a wrong key-encryption key. Its message is
// one safe line (never a secret), which the server prints when it cannot start and the CLI
// prints as its one line on stderr.
export class OperatorError extends Error {
  override name = 'OperatorError'
}
