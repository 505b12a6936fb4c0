#!/usr/bin/env node
// `tessera`: the command-line entry point (package.json `bin`). See run.ts and README.
import { run } from './run.js'

// `tessera clients list | head -1`: a reader that stops early is not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
})

process.exitCode = await run(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdin: async () => {
    let text = ''
    for await (const chunk of process.stdin.setEncoding('utf8')) text += chunk
    return text
  },
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
})
