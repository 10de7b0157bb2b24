/** One HTTP request of a channel: a non-2xx answer is an error that names the status. */
export async function request (url: string, init: RequestInit & { timeoutMs: number }): Promise<Response> {
  const { timeoutMs, ...rest } = init
  const res = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) })
  if (!res.ok) {
    const text = await res.text().catch(() => '')
    throw Object.assign(new Error(`${init.method ?? 'GET'} ${url} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`), { status: res.status })
  }
  return res
}
