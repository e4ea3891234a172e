import type { ServerResponse } from 'node:http'

/** Headers every answer carries: never cached, never sniffed as another type. */
const COMMON = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const

/** Sends `body` with its type and length; a HEAD request gets the same headers and no body. */
export function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  head: boolean,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...COMMON,
    ...headers,
    'content-type': type,
    'content-length': String(Buffer.byteLength(body)),
  })
  res.end(head ? undefined : body)
}

/** Sends `value` as JSON. */
export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  head: boolean,
  headers?: Record<string, string>,
): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, head, headers)
}
