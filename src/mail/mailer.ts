// Outgoing mail: the password-reset message, over SMTP with nodemailer when SMTP_URL is set.
// Without it nothing is sent; outside production the link is logged so a developer can follow
// it. Every header value is checked for CR and LF before anything is sent (no header injection).
import nodemailer from 'nodemailer'
import type { Config } from '../config/index.js'
import { resetMail } from './templates.js'

export interface Mailer {
  /** False in production without SMTP_URL: nothing sent reaches anyone (not even a log). */
  readonly delivers: boolean
  /** Sends the reset link to `to`; resolves when the server accepted it (or it was logged). */
  sendPasswordReset(to: string, link: string, validSeconds: number): Promise<void>
  close(): void
}

interface Log {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export class HeaderInjection extends Error {
  override name = 'HeaderInjection'
}

/** A header value with CR or LF would start a header of its own: refused. */
function headerSafe(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new HeaderInjection(`the ${name} header would contain a line break`)
  return value
}

export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'nodeEnv'>, log: Log): Mailer {
  const from = headerSafe('From', config.mailFrom)
  if (!config.smtpUrl) {
    return {
      delivers: config.nodeEnv !== 'production',
      async sendPasswordReset(to, link, _validSeconds) {
        headerSafe('To', to)
        if (config.nodeEnv === 'production') log.warn({}, 'password-reset mail not sent: SMTP_URL is not set')
        else log.info({ to, link }, 'password-reset mail not sent (SMTP_URL is not set); the link')
      },
      close() {},
    }
  }
  const transport = nodemailer.createTransport(config.smtpUrl)
  return {
    delivers: true,
    async sendPasswordReset(to, link, validSeconds) {
      const mail = resetMail(link, validSeconds)
      await transport.sendMail({ from, to: headerSafe('To', to), subject: headerSafe('Subject', mail.subject), text: mail.text, html: mail.html })
    },
    close: () => transport.close(),
  }
}
