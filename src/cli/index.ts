#!/usr/bin/env node
// `tessera`: the command-line entry point (package.json `bin`). See run.ts and SPEC §8.
import { run } from './run.js'

// `tessera clients list | head -1`: a reader that stops early is not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
})

process.exitCode = await run(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
})
