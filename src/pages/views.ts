// The hosted pages' bodies (docs/pages.md). Every value a user or a client chose (an email, a
// `return_to`, a client's name, an error text) goes through `html`, which escapes it.
import { type Html, html } from './html.js'

export interface FormContext {
  /** The CSRF token every form carries (routes/browser/csrf.ts). */
  csrf: string
  /** Where to go once done: an /authorize request, or nothing. */
  returnTo?: string | undefined
}

const hidden = (f: FormContext) =>
  html`<input type="hidden" name="csrf" value="${f.csrf}">${f.returnTo ? html`<input type="hidden" name="return_to" value="${f.returnTo}">` : ''}`

const withReturn = (path: string, returnTo: string | undefined) => (returnTo ? `${path}?${new URLSearchParams({ return_to: returnTo })}` : path)

const alert = (error: string | undefined) => (error ? html`<p class="alert" role="alert">${error}</p>` : '')

export function signInPage(f: FormContext & { email?: string | undefined; error?: string | undefined; clientName?: string | undefined }): Html {
  return html`${f.clientName ? html`<p>to continue to <strong>${f.clientName}</strong></p>` : ''}
${alert(f.error)}
<form method="post" action="/signin">
${hidden(f)}
<label>Email <input type="email" name="email" autocomplete="username" required maxlength="254" value="${f.email ?? ''}"></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required maxlength="1024"></label>
<button type="submit">Sign in</button>
</form>
<p class="links"><a href="${withReturn('/signup', f.returnTo)}">Create an account</a> <a href="/forgot-password">Forgot your password?</a></p>`
}

export function signUpPage(f: FormContext & { email?: string | undefined; name?: string | undefined; error?: string | undefined }): Html {
  return html`${alert(f.error)}
<form method="post" action="/signup">
${hidden(f)}
<label>Email <input type="email" name="email" autocomplete="email" required maxlength="254" value="${f.email ?? ''}"></label>
<label>Password <input type="password" name="password" autocomplete="new-password" required minlength="8" maxlength="256"></label>
<label>Name (optional) <input type="text" name="name" autocomplete="name" maxlength="200" value="${f.name ?? ''}"></label>
<button type="submit">Create account</button>
</form>
<p class="links"><a href="${withReturn('/signin', f.returnTo)}">I have an account</a></p>`
}

export function consentPage(f: FormContext & { clientName: string; scopes: readonly string[]; email: string }): Html {
  return html`<p><strong>${f.clientName}</strong> asks to access your account <strong>${f.email}</strong>:</p>
<ul class="scopes">${f.scopes.map((s) => html`<li>${describeScope(s)}</li>`)}</ul>
<form method="post" action="/consent">
${hidden(f)}
<div class="actions"><button type="submit" name="decision" value="allow">Allow</button><button type="submit" name="decision" value="deny" class="secondary">Deny</button></div>
</form>`
}

const SCOPES: Record<string, string> = {
  openid: 'Know who you are (your account id)',
  email: 'See your email address',
  profile: 'See your name',
  offline_access: 'Stay signed in when you are away',
}
const describeScope = (s: string) => SCOPES[s] ?? html`Use the scope <code>${s}</code>`

export function forgotPasswordPage(f: FormContext & { error?: string | undefined }): Html {
  return html`${alert(f.error)}
<p>Enter the address of your account: we will mail you a link to choose a new password.</p>
<form method="post" action="/forgot-password">
${hidden(f)}
<label>Email <input type="email" name="email" autocomplete="email" required maxlength="254"></label>
<button type="submit">Send reset link</button>
</form>
<p class="links"><a href="/signin">Back to sign-in</a></p>`
}

export function resetPasswordPage(f: FormContext & { token: string; error?: string | undefined }): Html {
  return html`${alert(f.error)}
<form method="post" action="/reset-password">
${hidden(f)}
<input type="hidden" name="token" value="${f.token}">
<label>New password <input type="password" name="password" autocomplete="new-password" required minlength="8" maxlength="256"></label>
<button type="submit">Set new password</button>
</form>`
}

export function logoutPage(f: FormContext & { email: string; query: Record<string, string> }): Html {
  return html`<p>You are signed in as <strong>${f.email}</strong>.</p>
<form method="post" action="/logout">
${hidden(f)}
${Object.entries(f.query).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<button type="submit">Sign out</button>
</form>`
}

/** A page that only says something: a notice, or an error (role=alert), and maybe a link. */
export function messagePage(m: { text: string; error?: boolean; link?: { href: string; label: string } | undefined }): Html {
  return html`<p class="${m.error ? 'alert' : 'notice'}"${m.error ? html` role="alert"` : ''}>${m.text}</p>
${m.link ? html`<p class="links"><a href="${m.link.href}">${m.link.label}</a></p>` : ''}`
}
