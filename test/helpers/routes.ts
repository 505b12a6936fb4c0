// The routes an app has, read from its own route tree: shared by the fuzz (which sends each one
// malformed requests) and the OpenAPI test (which finds each one in the document).

export interface Route {
  method: string
  url: string
}

/**
 * printRoutes without common prefixes: one line per node, its path relative to its parent, its
 * methods in parentheses. HEAD, which Fastify adds to every GET, is left out.
 */
export function routesOf(app: { printRoutes(opts: { commonPrefix: false }): string }): Route[] {
  const out: Route[] = []
  const stack: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([^)]*)\))?$/.exec(line)
    if (!m) continue
    const depth = m[1]!.length / 4
    stack.length = depth
    stack.push(m[2]!)
    for (const method of m[3]?.split(',').map((s) => s.trim()) ?? []) if (method !== 'HEAD') out.push({ method, url: stack.join('') })
  }
  return out
}
