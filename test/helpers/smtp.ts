// A real SMTP server on 127.0.0.1 and a free port (smtp-server), for the mail Tessera sends:
// each message is parsed (mailparser) and kept in order; `next()` waits for the next one.
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { until } from './wait.js'

export interface Received {
  /** The SMTP envelope: who the server was told to deliver to. */
  envelopeTo: string[]
  /** The raw message, headers and all. */
  raw: string
  mail: ParsedMail
}

export interface TestSmtp {
  url: string
  messages: Received[]
  /** Resolves with the first message not yet taken; fails after `ms`. */
  next(ms?: number): Promise<Received>
}

export async function startSmtp(t: { teardown(fn: () => unknown): void }): Promise<TestSmtp> {
  const messages: Received[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        messages.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), raw, mail: await simpleParser(raw) })
        callback()
      })
    },
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port))
  })
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  let taken = 0
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async next(ms = 10_000) {
      await until('a mail arrives at the test SMTP server', ms, () => messages.length > taken)
      return messages[taken++]!
    },
  }
}

/** The reset token in a reset mail's link (text part). */
export function resetTokenOf(m: Received): string {
  const link = /https?:\/\/\S+\/reset-password\?token=([A-Za-z0-9_%-]+)/.exec(m.mail.text ?? '')
  if (!link) throw new Error(`no reset link in the mail: ${m.mail.text}`)
  return decodeURIComponent(link[1]!)
}
