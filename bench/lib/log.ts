// The run's progress log, on stderr (stdout is for the table and the summary line), stamped with the seconds since the start.
const started = Date.now()

export const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${msg}\n`)
