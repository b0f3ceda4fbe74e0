/**
 * The loopback authorization servers this test file started, as
 * NEXUS_OUTBOUND_ALLOWED_HOSTS entries (`127.0.0.1:<port>`). Nexus reaches
 * providers only through its SSRF-safe fetch, which refuses loopback unless
 * the exact host and port are allow-listed; the test AS helpers register
 * themselves here and startTestApp / startServerProcess allow-list what is
 * registered when they start, as an operator would list a local AS. A
 * server started after the app is not reachable by it (start the AS
 * first, or pass its port: see QuirkyAuthServer.start). Each test file runs
 * in its own process, so the list never leaks between files.
 */
const hosts = new Set<string>();

export function allowOutbound(...entries: string[]): void {
  for (const e of entries) hosts.add(e);
}

export function allowedOutboundHosts(): string[] {
  return [...hosts];
}
