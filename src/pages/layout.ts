// The frame of every hosted page (docs/pages.md): one stylesheet, no script, the product's name
// and accent colour (BRAND_NAME, BRAND_COLOR), readable from 320 px up.
import { type Html, html } from './html.js'

export interface Brand {
  name: string
  color: string
}

export function layout(brand: Brand, title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · ${brand.name}</title>
<link rel="stylesheet" href="/assets/tessera.css">
</head>
<body>
<main>
<p class="brand">${brand.name}</p>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`.text
}

/** The one stylesheet, with the accent colour in (BRAND_COLOR is checked to be #rrggbb). */
export function stylesheet(brand: Brand): string {
  return `:root { --accent: ${brand.color}; color-scheme: light; }
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #f6f7f9; }
main { max-width: 26rem; margin: 2rem auto; padding: 1.5rem; background: #fff; border-radius: 0.75rem; box-shadow: 0 1px 3px rgb(0 0 0 / 0.12); }
@media (max-width: 30rem) { main { margin: 0; border-radius: 0; box-shadow: none; min-height: 100vh; padding: 1rem; } }
.brand { margin: 0 0 0.5rem; font-weight: 700; color: var(--accent); overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
p { overflow-wrap: anywhere; }
form { display: grid; gap: 0.75rem; margin: 0 0 1rem; }
label { display: grid; gap: 0.25rem; font-weight: 600; }
input { font: inherit; font-weight: 400; padding: 0.6rem 0.7rem; border: 1px solid #8c959f; border-radius: 0.4rem; width: 100%; min-width: 0; }
input:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
button { font: inherit; font-weight: 600; padding: 0.65rem 1rem; border-radius: 0.4rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
.actions { display: flex; gap: 0.5rem; flex-wrap: wrap; }
.actions button { flex: 1 1 8rem; }
.alert { padding: 0.75rem; border-radius: 0.4rem; background: #ffebe9; border: 1px solid #cf222e; color: #82071e; }
.notice { padding: 0.75rem; border-radius: 0.4rem; background: #dafbe1; border: 1px solid #1a7f37; color: #0a3622; }
ul.scopes { padding-left: 1.25rem; }
a { color: var(--accent); }
.links { display: flex; gap: 1rem; flex-wrap: wrap; font-size: 0.95rem; }
`
}
