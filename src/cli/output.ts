// Plain-text rendering for people: aligned fields and tables, dates to the second.

/** Control characters (a name holding an escape sequence) never reach the terminal. */
export const clean = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')

export const date = (d: Date | null | undefined): string => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-')

/** `label: value` lines, values aligned. */
export function fields(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n')
}

/** A table with a header row, columns separated by two spaces. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}
