// The hosted pages in a real browser (issue 18): Debian's Chromium, driven by playwright-core,
// against a real Tessera process (embedded PGlite in a scratch directory, the test SMTP server
// for its mail) and a third-party public client, "Photo Book", whose redirect URI is a local
// HTTP server that records what it is sent. The browser meets the sign-in page, follows "Create
// an account", signs up, denies and then allows on the consent page, and lands on the redirect
// URI with a code that openid-client exchanges (PKCE, state, iss, the ID token's nonce and
// claims, userinfo); it signs out (RP-initiated, and through the confirmation page), signs in
// again (the consent remembered), signs in with JavaScript off, resets the password through the
// forgot-password page and the mail's link (which ends the other browser's session), re-signs
// in on prompt=login, and meets the error page of an unregistered redirect URI. Every page it
// meets is checked at 320 px and 1280 px (no horizontal scroll, every input labelled, lang,
// viewport, one stylesheet, a strict CSP with frame-ancestors 'none', no CSP violation) and
// screenshotted into test/browser/screenshots/ (gitignored; the output names each file). Every
// wait is bounded; the server and the browser are killed by PID at teardown, the local servers
// closed. Without a Chromium binary the test is skipped, saying how to install one.
import { mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { join, relative } from 'node:path'
import * as oidc from 'openid-client'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { CHROMIUM_MISSING, findChromium, launchChromium } from '../helpers/browser.js'
import { tessera } from '../helpers/cli.js'
import { freePort, ROOT, readyJwks, scratch, serverCommand, startServer } from '../helpers/process.js'
import { migrateDatabase } from '../helpers/remote.js'
import { startSmtp } from '../helpers/smtp.js'

t.setTimeout(170_000)

// The functions given to page.evaluate run in Chromium. This project's TypeScript has no DOM
// library (src/ runs on Node only): these are the few parts of the page's globals they use.
interface PageElement {
  name: string
  value: string
  type: string
  href: string
  outerHTML: string
  textContent: string | null
  labels?: ArrayLike<PageElement> | null
  getAttribute(name: string): string | null
}
interface PageList<T> extends ArrayLike<T>, Iterable<T> {}
declare const document: {
  documentElement: { lang: string; scrollWidth: number }
  title: string
  styleSheets: PageList<{ cssRules: ArrayLike<unknown> }>
  querySelector(selector: string): PageElement | null
  querySelectorAll(selector: string): PageList<PageElement>
}
declare const window: { innerWidth: number }

const SHOTS = join(ROOT, 'test', 'browser', 'screenshots')
const WAIT = 20_000
const EMAIL = 'ada@example.com'
const NAME = 'Ada Lovelace'
const PASSWORD = 'plum orbit lantern quietly 42'
const NEW_PASSWORD = 'velvet canyon marble drift 77'
const SCOPE = 'openid email profile'
const SCOPE_TEXTS = ['Know who you are', 'See your email address', 'See your name']
const WIDTHS = [320, 1280] as const

/** One main-frame navigation answer the browser received (redirects included). */
interface Visit {
  method: string
  url: URL
  status: number
  headers: Record<string, string>
}

/** What a page's browser tab saw: its navigations, and the console errors (CSP violations among them). */
interface Tab {
  page: Page
  visits: Visit[]
  errors: string[]
}

function tab(page: Page): Tab {
  const visits: Visit[] = []
  const errors: string[] = []
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame())
      visits.push({ method: r.request().method(), url: new URL(r.url()), status: r.status(), headers: r.headers() })
  })
  page.on('console', (m) => {
    const where = m.location().url
    // Chromium asks every origin for /favicon.ico; the pages declare none, and its 404 is no page's fault.
    // An error page's own status (a 400 with the form again) is reported too: the page is checked, not its status.
    const documentStatus = m.text().startsWith('Failed to load resource') && where === page.url()
    if (m.type() === 'error' && !where.endsWith('/favicon.ico') && !documentStatus) errors.push(`${m.text()} (${where})`)
  })
  page.on('pageerror', (e) => errors.push(e.message))
  page.setDefaultTimeout(WAIT)
  page.setDefaultNavigationTimeout(WAIT)
  return { page, visits, errors }
}

/** Does `action` (a click that navigates), waits for the new document's load, and returns the navigations it made. */
async function act(tab: Tab, action: () => Promise<unknown>): Promise<Visit[]> {
  const from = tab.visits.length
  const loaded = tab.page.waitForEvent('load', { timeout: WAIT })
  // If the action itself fails, that is the error to report, not this wait's later timeout.
  loaded.catch(() => {})
  await action()
  await loaded
  return tab.visits.slice(from)
}

/** Opens `url` in the tab and returns the navigations it made (redirects first). */
async function open(tab: Tab, url: string | URL): Promise<Visit[]> {
  const from = tab.visits.length
  await tab.page.goto(String(url), { waitUntil: 'load', timeout: WAIT })
  return tab.visits.slice(from)
}

const here = (tab: Tab) => new URL(tab.page.url())
const route = (visits: Visit[]) => visits.map((v) => `${v.method} ${v.url.pathname} ${v.status}`)

let shot = 0

/**
 * The checks every hosted page must pass, on the page the tab shows now: its answer's headers,
 * its document, and at each width no horizontal scroll; a full-page screenshot at each width.
 */
async function checkPage(t: Test, tab: Tab, name: string): Promise<void> {
  const { page } = tab
  const visit = tab.visits.at(-1)!
  t.equal(visit.url.href, page.url(), `${name}: the last answer is the page shown`)
  const csp = visit.headers['content-security-policy'] ?? ''
  t.match(csp, /frame-ancestors 'none'/, `${name}: Content-Security-Policy with frame-ancestors 'none' (${csp})`)
  t.match(csp, /default-src 'none'|default-src 'self'/, `${name}: the CSP denies by default`)
  t.notMatch(csp, /'unsafe-inline'|'unsafe-eval'|(^|\s)\*(\s|;|$)/, `${name}: the CSP allows no inline code, no eval, no wildcard`)
  t.match(visit.headers['content-type'] ?? '', /^text\/html; charset=utf-8/i, `${name}: text/html; charset=utf-8`)
  t.match(visit.headers['cache-control'] ?? '', /no-store/, `${name}: Cache-Control: no-store`)
  // The reset page's URL holds the reset token: no address of a page may leave in a Referer.
  t.match(visit.headers['referrer-policy'] ?? '', /^(no-referrer|same-origin)$/, `${name}: Referrer-Policy no-referrer or same-origin`)
  const doc = await page.evaluate(() => {
    const fields = [...document.querySelectorAll('input, select, textarea')]
    return {
      lang: document.documentElement.lang,
      viewport: document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? null,
      stylesheetLinks: [...document.querySelectorAll('link[rel~="stylesheet"]')].map((l) => l.href),
      styleSheets: document.styleSheets.length,
      rules: [...document.styleSheets].reduce((n, s) => n + s.cssRules.length, 0),
      styleElements: document.querySelectorAll('style, [style]').length,
      title: document.title,
      h1: document.querySelector('h1')?.textContent?.trim() ?? '',
      unlabelled: fields
        .filter((f) => !['hidden', 'submit', 'button', 'reset', 'image'].includes(f.type))
        .filter((f) => !f.labels?.length && !f.getAttribute('aria-label') && !f.getAttribute('aria-labelledby'))
        .map((f) => f.name || f.outerHTML),
      labelled: fields.filter((f) => f.labels?.length).map((f) => `${f.labels![0]!.textContent!.trim()} (${f.name})`),
    }
  })
  t.equal(doc.lang, 'en', `${name}: <html lang="en">`)
  t.match(doc.viewport ?? '', /width=device-width/, `${name}: a viewport meta`)
  t.equal(doc.stylesheetLinks.length, 1, `${name}: one stylesheet link (${doc.stylesheetLinks.join(', ')})`)
  t.equal(doc.styleSheets, 1, `${name}: one stylesheet in the document, no <style>`)
  t.ok(doc.rules > 0, `${name}: the stylesheet loaded (${doc.rules} rules)`)
  t.equal(doc.styleElements, 0, `${name}: no inline style (a strict CSP would block it)`)
  t.ok(doc.h1 && doc.title, `${name}: a heading (${doc.h1}) and a title (${doc.title})`)
  t.same(doc.unlabelled, [], `${name}: every input has a label (${doc.labelled.join(', ') || 'none'})`)
  const number = String(++shot).padStart(2, '0')
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 800 })
    const scroll = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }))
    t.ok(
      scroll.scrollWidth <= scroll.innerWidth,
      `${name} at ${width} px: no horizontal scroll (scrollWidth ${scroll.scrollWidth}, innerWidth ${scroll.innerWidth})`,
    )
    const file = join(SHOTS, `${number}-${name}-${width}.png`)
    await page.screenshot({ path: file, fullPage: true, timeout: WAIT })
    t.comment(`screenshot: ${relative(ROOT, file)}`)
  }
  await page.setViewportSize({ width: 1280, height: 800 })
  t.same(tab.errors, [], `${name}: no console error (no CSP violation, no failed load): ${tab.errors.join('; ') || 'none'}`)
  tab.errors.length = 0
}

/** The local redirect URI of the client: records each query it is sent, answers a small page. */
async function startCallback(t: Test): Promise<{ uri: string; hits: URLSearchParams[] }> {
  const hits: URLSearchParams[] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname === '/callback') hits.push(url.searchParams)
    res.writeHead(url.pathname === '/callback' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><html lang="en"><title>Photo Book</title><p>Back at Photo Book.</p></html>')
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))
  })
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  )
  return { uri: `http://127.0.0.1:${port}/callback`, hits }
}

const chromiumPath = findChromium()

interface Flow {
  url: URL
  verifier: string
  state: string
  nonce: string
}

/** A return_to, as the /authorize request it names: its path and its parameters, sorted. */
const asRequest = (returnTo: string | null | undefined) => {
  const u = new URL(returnTo ?? '', 'http://x')
  return `${u.pathname}?${[...u.searchParams]
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join('&')}`
}
const requestOf = (flow: Flow) => asRequest(`${flow.url.pathname}${flow.url.search}`)

async function pages(t: Test, chromium: string) {
  // This run's screenshots only: none left from an earlier run to be mistaken for today's pages.
  rmSync(SHOTS, { recursive: true, force: true })
  mkdirSync(SHOTS, { recursive: true })
  t.comment(`server under test: ${serverCommand().what}; browser: ${chromium}`)
  const smtp = await startSmtp(t)
  const callback = await startCallback(t)
  const dir = scratch(t, 'tessera-browser-')
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`

  // The client, through the CLI on the server's embedded database before the server opens it
  // (PGlite admits one process at a time).
  const where = { cwd: dir, env: { ISSUER: issuer } }
  await migrateDatabase(where)
  const created = await tessera(
    where,
    ...['clients', 'create', '--name', 'Photo Book', '--grant', 'authorization_code', '--grant', 'refresh_token', '--public'],
    ...['--redirect-uri', callback.uri, '--scope', 'openid', '--scope', 'email', '--scope', 'profile', '--json'],
  )
  t.equal(created.code, 0, `tessera clients create (stderr: ${created.stderr.trim()})`)
  const registered = JSON.parse(created.stdout) as { client_id: string; public: boolean; first_party: boolean; redirect_uris: string[] }
  t.match(
    registered,
    { public: true, first_party: false, redirect_uris: [callback.uri] },
    'Photo Book: public, not first-party (so it gets a consent page), with the local redirect URI',
  )
  const clientId = registered.client_id

  const server = await startServer(t, dir, { ISSUER: issuer, PORT: String(port), SMTP_URL: smtp.url, LOG_LEVEL: 'warn' }, 'tessera')
  await readyJwks(server)

  // openid-client, unchanged but for plain http (loopback in a test).
  const config = await oidc.discovery(new URL(issuer), clientId, { token_endpoint_auth_method: 'none' }, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  })

  const authorization = async (): Promise<Flow> => {
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const nonce = oidc.randomNonce()
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: callback.uri,
      scope: SCOPE,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    return { url, verifier, state, nonce }
  }

  /** The tab is on the redirect URI: check what it got, and exchange the code with openid-client. */
  const exchange = async (t: Test, tab: Tab, flow: Flow, what: string) => {
    const landed = here(tab)
    t.equal(`${landed.origin}${landed.pathname}`, callback.uri, `${what}: the browser is at the redirect URI`)
    t.same(
      { state: landed.searchParams.get('state'), iss: landed.searchParams.get('iss'), code: !!landed.searchParams.get('code') },
      { state: flow.state, iss: issuer, code: true },
      `${what}: with a code, the state and iss (RFC 9207)`,
    )
    t.equal(callback.hits.at(-1)?.toString(), landed.searchParams.toString(), `${what}: the redirect URI's server received that query`)
    const tokens = await oidc.authorizationCodeGrant(config, landed, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    })
    const claims = tokens.claims()!
    t.match(
      claims,
      { iss: issuer, aud: clientId, nonce: flow.nonce, sub: String, email: EMAIL, name: NAME },
      `${what}: openid-client exchanged the code; the ID token has the nonce, and the email and profile claims`,
    )
    t.ok(typeof claims.auth_time === 'number' && claims.auth_time <= claims.iat, `${what}: auth_time (${claims.auth_time}), no later than iat`)
    t.ok(claims.sid && claims.at_hash, `${what}: sid and at_hash`)
    t.ok(tokens.access_token && tokens.refresh_token, `${what}: an access token and a refresh token`)
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)
    t.match(info, { sub: claims.sub, email: EMAIL, name: NAME }, `${what}: userinfo`)
    return tokens
  }

  /** Signs in on the sign-in page the tab shows; returns the navigations after the click. */
  const signIn = async (tab: Tab, password: string) => {
    await tab.page.getByLabel('Email', { exact: true }).fill(EMAIL)
    await tab.page.getByLabel('Password', { exact: true }).fill(password)
    return act(tab, () => tab.page.getByRole('button', { name: 'Sign in' }).click())
  }

  const mainText = async (tab: Tab) => (await tab.page.locator('main').textContent()) ?? ''

  const browser: Browser = await launchChromium(t, chromium)
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const main = tab(await context.newPage())
  let subject = ''
  let idToken = ''

  t.test('an authorization request without a session meets the sign-in page; sign-up, consent, a code', async (t) => {
    const flow = await authorization()
    const visits = await open(main, flow.url)
    t.same(route(visits), ['GET /authorize 303', 'GET /signin 200'], 'GET /authorize: 303 to /signin')
    const location = new URL(visits[0]?.headers.location ?? '', issuer)
    t.equal(location.pathname, '/signin', 'Location: /signin')
    t.equal(asRequest(location.searchParams.get('return_to')), requestOf(flow), 'with return_to: the /authorize request')
    t.equal(asRequest(here(main).searchParams.get('return_to')), requestOf(flow), 'the sign-in page has that return_to')
    await checkPage(t, main, 'signin')
    const hidden = await main.page.evaluate(() => Object.fromEntries([...document.querySelectorAll('form input[type="hidden"]')].map((i) => [i.name, i.value])))
    t.ok(hidden.csrf && hidden.csrf.length >= 16, 'the form carries a CSRF token')
    t.equal(asRequest(hidden.return_to), requestOf(flow), 'and return_to')
    const forgot = new URL((await main.page.getByRole('link', { name: 'Forgot your password?' }).getAttribute('href')) ?? '', issuer)
    t.equal(forgot.pathname, '/forgot-password', 'a "Forgot your password?" link to /forgot-password')

    const toSignUp = await act(main, () => main.page.getByRole('link', { name: 'Create an account' }).click())
    t.same(route(toSignUp), ['GET /signup 200'], '"Create an account" opens /signup')
    t.equal(asRequest(here(main).searchParams.get('return_to')), requestOf(flow), 'keeping return_to')
    await checkPage(t, main, 'signup')
    await main.page.getByLabel('Email', { exact: true }).fill(EMAIL)
    await main.page.getByLabel('Password', { exact: true }).fill('password123')
    await main.page.getByLabel('Name (optional)', { exact: true }).fill(NAME)
    const weak = await act(main, () => main.page.getByRole('button', { name: 'Create account' }).click())
    t.same(route(weak), ['POST /signup 400'], 'a too common password: the page again, 400')
    t.match((await main.page.getByRole('alert').textContent()) ?? '', /^Password: this password is too common/, 'saying so plainly (role=alert)')
    t.same(
      {
        email: await main.page.getByLabel('Email', { exact: true }).inputValue(),
        name: await main.page.getByLabel('Name (optional)', { exact: true }).inputValue(),
        returnTo: asRequest(await main.page.locator('input[name="return_to"]').inputValue()),
      },
      { email: EMAIL, name: NAME, returnTo: requestOf(flow) },
      'keeping the email, the name and return_to',
    )
    await checkPage(t, main, 'signup-weak-password')
    await main.page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    const signedUp = await act(main, () => main.page.getByRole('button', { name: 'Create account' }).click())
    t.same(
      route(signedUp),
      ['POST /signup 303', 'GET /authorize 303', 'GET /consent 200'],
      'signed up and signed in: back to /authorize, then the consent page',
    )
    await checkPage(t, main, 'consent')
    const text = await mainText(main)
    t.match(text, 'Photo Book', 'the consent page names the client')
    t.match(text, EMAIL, 'and the account')
    for (const scope of SCOPE_TEXTS) t.match(text, scope, `and lists the scope: ${scope}`)

    const denied = await act(main, () => main.page.getByRole('button', { name: 'Deny' }).click())
    t.same(route(denied), ['POST /consent 303', 'GET /callback 200'], '"Deny": 303 to the redirect URI')
    t.match(
      Object.fromEntries(here(main).searchParams),
      { error: 'access_denied', error_description: String, state: flow.state, iss: issuer },
      'with error=access_denied, the state and iss',
    )
    t.same(route(await open(main, flow.url)), ['GET /authorize 303', 'GET /consent 200'], 'the same request again: the consent page again')

    const allowed = await act(main, () => main.page.getByRole('button', { name: 'Allow' }).click())
    t.same(
      route(allowed),
      ['POST /consent 303', 'GET /authorize 303', 'GET /callback 200'],
      '"Allow": back to /authorize, which sends the browser to the redirect URI',
    )
    t.equal(allowed.at(-2)?.url.origin, issuer, 'the /authorize is Tessera’s')
    const tokens = await exchange(t, main, flow, 'after sign-up and consent')
    subject = tokens.claims()!.sub
    idToken = tokens.id_token!
  })

  t.test('sign out (RP-initiated, with the ID token); a wrong password, then the right one: the consent is remembered', async (t) => {
    const out = await open(main, oidc.buildEndSessionUrl(config, { id_token_hint: idToken }))
    t.same(route(out), ['GET /logout 200'], 'GET /logout with id_token_hint: signed out at once')
    t.match(await mainText(main), 'You are signed out.', '"You are signed out."')
    await checkPage(t, main, 'signed-out')

    const flow = await authorization()
    t.same(route(await open(main, flow.url)), ['GET /authorize 303', 'GET /signin 200'], 'the session ended: /authorize sends the browser to /signin again')
    const wrong = await signIn(main, 'not the password at all')
    t.same(route(wrong), ['POST /signin 400'], 'a wrong password: the page again, 400')
    t.equal((await main.page.getByRole('alert').textContent())?.trim(), 'Wrong email or password.', 'role=alert: "Wrong email or password."')
    await checkPage(t, main, 'signin-wrong-password')

    const right = await signIn(main, PASSWORD)
    t.same(route(right), ['POST /signin 303', 'GET /authorize 303', 'GET /callback 200'], 'the right password: /authorize, then straight to the redirect URI')
    t.notOk(
      right.some((v) => v.url.pathname === '/consent'),
      'no consent page the second time',
    )
    const tokens = await exchange(t, main, flow, 'after the second sign-in')
    t.equal(tokens.claims()!.sub, subject, 'the same subject')
  })

  // Signed in with JavaScript off; kept open so that the password reset can end its session.
  const noScript: BrowserContext = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } })
  const off = tab(await noScript.newPage())

  t.test('with JavaScript disabled the pages still sign in', async (t) => {
    const flow = await authorization()
    t.same(route(await open(off, flow.url)), ['GET /authorize 303', 'GET /signin 200'], 'the sign-in page')
    const signedIn = await signIn(off, PASSWORD)
    t.same(route(signedIn), ['POST /signin 303', 'GET /authorize 303', 'GET /callback 200'], 'a plain form post signs in and lands on the redirect URI')
    await exchange(t, off, flow, 'with JavaScript off')
  })

  t.test('forgot password: the page, the mail, its link, the new password; the old one no longer works', async (t) => {
    t.same(route(await open(main, `${issuer}/logout`)), ['GET /logout 200'], 'GET /logout without a hint: a page that asks')
    t.equal(await main.page.getByRole('button', { name: 'Sign out' }).count(), 1, 'with a "Sign out" button')
    await checkPage(t, main, 'sign-out')
    const out = await act(main, () => main.page.getByRole('button', { name: 'Sign out' }).click())
    t.same(route(out), ['POST /logout 200'], 'signed out')

    const flow = await authorization()
    await open(main, flow.url)
    const toForgot = await act(main, () => main.page.getByRole('link', { name: 'Forgot your password?' }).click())
    t.same(route(toForgot), ['GET /forgot-password 200'], '"Forgot your password?" opens /forgot-password')
    await checkPage(t, main, 'forgot-password')
    await main.page.getByLabel('Email', { exact: true }).fill(EMAIL)
    const sent = await act(main, () => main.page.getByRole('button', { name: 'Send reset link' }).click())
    t.same(route(sent), ['POST /forgot-password 200'], 'sent')
    t.match(await mainText(main), 'If an account exists for that address, we have sent a link to reset its password.', 'the answer says no more than that')
    await checkPage(t, main, 'forgot-password-sent')

    const mail = await smtp.next(WAIT)
    t.same(mail.envelopeTo, [EMAIL], 'a mail to the account')
    const link = new RegExp(`${issuer.replace(/\./g, '\\.')}/reset-password\\?token=[A-Za-z0-9_%.~-]+`).exec(mail.mail.text ?? '')?.[0]
    t.ok(link, `the mail's text links to ${issuer}/reset-password?token=…`)
    t.same(route(await open(main, link ?? `${issuer}/reset-password`)), ['GET /reset-password 200'], 'the link opens the reset page')
    await checkPage(t, main, 'reset-password')
    await main.page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
    const reset = await act(main, () => main.page.getByRole('button', { name: 'Set new password' }).click())
    t.same(route(reset), ['POST /reset-password 200'], 'set')
    t.match(await mainText(main), 'Your password has been changed.', '"Your password has been changed."')
    await checkPage(t, main, 'reset-password-done')

    const toSignIn = await act(main, () => main.page.getByRole('link', { name: 'Sign in' }).click())
    t.same(route(toSignIn), ['GET /signin 200'], 'its "Sign in" link opens the sign-in page')
    t.same(route(await signIn(main, PASSWORD)), ['POST /signin 400'], 'the old password: refused')
    t.equal((await main.page.getByRole('alert').textContent())?.trim(), 'Wrong email or password.', '"Wrong email or password."')
    const signedIn = await signIn(main, NEW_PASSWORD)
    t.same(route(signedIn), ['POST /signin 200'], 'the new password signs in')
    t.match(await mainText(main), 'You are signed in', 'with nowhere to return to: "You are signed in"')
    await checkPage(t, main, 'signed-in')

    const again = await authorization()
    t.same(route(await open(main, again.url)), ['GET /authorize 303', 'GET /callback 200'], 'now /authorize goes straight to the redirect URI')
    await exchange(t, main, again, 'after the reset')

    t.same(
      route(await open(off, (await authorization()).url)),
      ['GET /authorize 303', 'GET /signin 200'],
      'the reset ended the other browser’s session (the one with JavaScript off): it meets the sign-in page',
    )
  })

  t.test('prompt=login asks for the password again despite the session; login_hint fills the email, as text', async (t) => {
    const flow = await authorization()
    const hint = `"><img src=x id=injected>${EMAIL}`
    const url = new URL(flow.url)
    url.searchParams.set('prompt', 'login')
    url.searchParams.set('login_hint', hint)
    t.same(route(await open(main, url)), ['GET /authorize 303', 'GET /signin 200'], 'signed in, but prompt=login: the sign-in page')
    t.equal(await main.page.getByLabel('Email', { exact: true }).inputValue(), hint, 'the email field holds the hint, character for character')
    t.equal(await main.page.locator('#injected').count(), 0, 'and no markup of it made it into the page')
    await main.page.getByLabel('Email', { exact: true }).fill(EMAIL)
    await main.page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD)
    const began = Math.floor(Date.now() / 1000)
    const signedIn = await act(main, () => main.page.getByRole('button', { name: 'Sign in' }).click())
    t.same(
      route(signedIn),
      ['POST /signin 303', 'GET /authorize 303', 'GET /callback 200'],
      'signed in again: on to the redirect URI, without prompt=login looping',
    )
    const tokens = await exchange(t, main, flow, 'after prompt=login')
    t.ok(tokens.claims()!.auth_time! >= began, 'auth_time is this sign-in')
  })

  t.test('a redirect_uri that is not registered: an error page on Tessera, never a redirect', async (t) => {
    const bad = new URL((await authorization()).url)
    bad.searchParams.set('redirect_uri', `${callback.uri}/elsewhere`)
    const hits = callback.hits.length
    t.same(route(await open(main, bad)), ['GET /authorize 400'], 'a 400 page, no redirect')
    t.equal(callback.hits.length, hits, 'nothing reached the redirect URI')
    t.equal((await main.page.getByRole('alert').count()) > 0, true, 'the page says what is wrong (role=alert)')
    await checkPage(t, main, 'authorize-error')
  })
}

t.test('the hosted pages in Chromium', { skip: chromiumPath ? false : CHROMIUM_MISSING }, (t) => pages(t, chromiumPath!))
