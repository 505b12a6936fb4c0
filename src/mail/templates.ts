// The mail Tessera sends, as text and as HTML. Everything put into the HTML is escaped.

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** 3600 → "1 hour", 900 → "15 minutes". */
const span = (seconds: number): string =>
  seconds % 3600 === 0 ? `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}` : `${Math.max(1, Math.round(seconds / 60))} minutes`

export function resetMail(link: string, validSeconds: number): { subject: string; text: string; html: string } {
  const validFor = span(validSeconds)
  const subject = 'Reset your password'
  const text = [
    'Someone asked to reset the password of your account.',
    '',
    `To choose a new password, open this link within ${validFor}:`,
    link,
    '',
    'If it was not you, ignore this message: your password stays as it is.',
  ].join('\n')
  const html = `<!doctype html>
<html><body style="font-family: system-ui, sans-serif; line-height: 1.5">
<p>Someone asked to reset the password of your account.</p>
<p><a href="${escapeHtml(link)}">Choose a new password</a> (the link works once, for ${validFor}).</p>
<p>If it was not you, ignore this message: your password stays as it is.</p>
</body></html>`
  return { subject, text, html }
}
