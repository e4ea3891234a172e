import { escapeHtml } from './escape-html.js'
import type { HealthSnapshot } from './health-snapshot.js'
import { PAGE_SCRIPT } from './page-script.js'
import { PAGE_STYLE } from './page-style.js'

/** Where the page's script finds the stream and the refresh action (absolute paths). */
export interface PageLinks {
  readonly stream: string
  /** `undefined` when actions are off: the page shows no refresh buttons. */
  readonly refresh: string | undefined
}

/**
 * The inspector page. Its first rows are rendered here (every name escaped), so it reads without
 * its script; the script then follows the live stream. `nonce` allows its one style and one script
 * under a Content-Security-Policy that allows nothing else.
 */
export function inspectorPage(
  snapshot: HealthSnapshot,
  links: PageLinks,
  title: string,
  nonce: string,
): string {
  const rows = snapshot.resources
    .map(
      (r) =>
        `<article class="row st-${escapeHtml(r.status)}" data-name="${escapeHtml(r.name)}">` +
        `<div class="head"><span class="name">${escapeHtml(r.name)}</span>` +
        `<span class="status">${escapeHtml(r.status)}</span></div></article>`,
    )
    .join('')
  const badge = (ok: boolean, yes: string, no: string) =>
    `class="badge ${ok ? 'ok' : 'bad'}">${ok ? yes : no}`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="icon" href="data:,">
<style nonce="${nonce}">${PAGE_STYLE}</style></head>
<body data-stream="${escapeHtml(links.stream)}" data-refresh="${escapeHtml(links.refresh ?? '')}">
<header><h1>${escapeHtml(title)}</h1><span id="live" ${badge(snapshot.live, 'live', 'not live')}</span>
<span id="ready" ${badge(snapshot.ready, 'ready', 'not ready')}</span><span id="counts"></span>
<span id="conn">connecting…</span></header>
<main id="rows" data-server>${rows}</main>
<footer id="omitted">${snapshot.omitted > 0 ? `${snapshot.omitted} more resources not shown` : ''}</footer>
<script nonce="${nonce}">${PAGE_SCRIPT}</script>
</body></html>
`
}
