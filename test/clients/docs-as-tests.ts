// Docs as tests: every fenced code block of docs/clients/<lang>.md is extracted and run
// against a live Nexus, so a snippet that does not run as pasted fails the clients tier.
// One extractor and one live environment for the three language suites
// (test/clients/<lang>-docs.test.ts); each suite compiles and runs its language's programs.
//
// How a page is read (the conventions a docs page follows):
// - A fenced block's info string is its language (`ts`, `go`, `python`, `sh`), then optional
//   `key=value` attributes, which renderers ignore: ```ts file=wait.ts
// - Blocks of the page's program language are concatenated in page order into one program
//   per `file` (default: the language's default file name): a page is one walkthrough whose
//   later blocks use what earlier ones defined, exactly as a reader pasting them would.
//   A block with its own `file=` is a separate program (an alternative, e.g. gRPC instead of
//   Connect).
// - `sh` blocks are shell commands, run by bash (`set -euo pipefail`) in the directory named
//   by their `cwd=` attribute (`repo`: a copy of the parts of the repository the clients
//   build from; `app`: the user's project, the default). As in one terminal, the `export`
//   lines of earlier `sh` blocks are in effect for later ones (`shellScript`). A block with
//   `role=run` starts the agent; the suite runs it as an Agent and plays the user.
// - Before running, the live environment's values replace the documented defaults
//   (`http://localhost:8080` becomes the test server's URL, and so on: LIVE_DEFAULTS).
// - Every block must be run by the suite: `accountFor` fails on a block nobody ran.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApiKeyLocation, AuthType } from '../../gen/ts/nexus/v1/provider_pb.js';
import { user, isConsentLink, throughNexus } from '../support/consent.js';
import { oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { DemoApi } from '../../demo/demo-api.js';
import { ADMIN_KEY, clients, startTestApp, type TestApp } from '../support/test-app.js';
import { userEnv } from './build.js';
import { REPO_ROOT, type Agent } from './support.js';

const pexec = promisify(execFile);

export interface DocBlock {
  /** The page, relative to the repository root. */
  page: string;
  /** The 1-based line of the opening fence. */
  line: number;
  lang: string;
  attrs: Record<string, string>;
  code: string;
}

/** `docs/clients/ts.md:42 (ts)`: where a block is, for failure messages. */
export function where(block: DocBlock): string {
  return `${block.page}:${block.line} (${block.lang})`;
}

/** The fenced code blocks of a Markdown text, in order. Indented fences and `~~~` count too. */
export function parseBlocks(markdown: string, page = '<markdown>'): DocBlock[] {
  const blocks: DocBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang, rest] = open as unknown as [string, string, string, string, string];
    const attrs: Record<string, string> = {};
    for (const m of rest.matchAll(/([A-Za-z][\w-]*)=("([^"]*)"|\S+)/g)) attrs[m[1]!] = m[3] ?? m[2]!;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
      if (close.test(lines[j]!)) break;
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    }
    if (j === lines.length) throw new Error(`${page}:${i + 1}: code block is never closed`);
    blocks.push({ page, line: i + 1, lang: lang.toLowerCase(), attrs, code: `${body.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

/** The code blocks of a page of the repository (path relative to its root). */
export function extractBlocks(page: string): DocBlock[] {
  return parseBlocks(readFileSync(path.join(REPO_ROOT, page), 'utf8'), page);
}

/** Language names as pages write them, by the canonical one. */
const ALIASES: Record<string, string[]> = {
  ts: ['ts', 'typescript'],
  go: ['go', 'golang'],
  python: ['python', 'py'],
  sh: ['sh', 'bash', 'shell', 'console'],
};

export function isLang(block: DocBlock, lang: string): boolean {
  return (ALIASES[lang] ?? [lang]).includes(block.lang);
}

export interface Program {
  file: string;
  source: string;
  blocks: DocBlock[];
}

/**
 * The page's programs in `lang`: its blocks concatenated in page order per `file` attribute
 * (default `defaultFile`), each block preceded by a comment naming its line (`comment`
 * makes one: `//` or `#`), so a compiler's error points back at the page.
 */
export function programs(blocks: DocBlock[], lang: string, defaultFile: string, comment: (text: string) => string): Program[] {
  const byFile = new Map<string, Program>();
  for (const block of blocks) {
    if (!isLang(block, lang)) continue;
    const file = block.attrs.file ?? defaultFile;
    const program = byFile.get(file) ?? { file, source: '', blocks: [] };
    byFile.set(file, program);
    program.source += `${comment(`--- ${where(block)}`)}\n${block.code}`;
    program.blocks.push(block);
  }
  return [...byFile.values()];
}

/** Every block of `blocks` not in `ran`: a suite calls this last and expects []. */
export function accountFor(blocks: DocBlock[], ran: Iterable<DocBlock>): string[] {
  const done = new Set(ran);
  return blocks.filter((b) => !done.has(b)).map(where);
}

// --- the live environment -------------------------------------------------------------------

// The provider API the docs' agents call: the one `npm run demo-provider` serves (demo/demo-api.ts),
// here on a free port, accepting any bearer token (the local authorization server issues them).
export { DemoApi };

/** The key the docs submit for the `demo-api-key` connection. */
export const DEMO_KEY = 'demo-key-123';
/** The admin API key of the README's walkthrough (`NEXUS_ADMIN_API_KEY`): the live values replace it with the test server's. */
export const DEMO_ADMIN_KEY = 'nexus-demo-admin-key';

export interface DocsEnv {
  nexus: TestApp;
  auth: TestAuthServer;
  api: DemoApi;
  /** Documented default -> live value, applied to every block before it runs. */
  live: [string, string][];
  /** The environment of the README's walkthrough, for programs run outside the page's `sh` blocks. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A live Nexus with the README walkthrough's providers: `demo-oauth` (OAuth 2.0, here the
 * local authorization server in test/support standing in for `npm run demo-provider`) and
 * `demo-api-key` (an API key in `X-Demo-Key`, as demo/providers.yaml has it), both with the
 * demo API as their api_base_url, so the proxy reaches it.
 */
export async function startDocsEnv(): Promise<DocsEnv> {
  const auth = await TestAuthServer.start();
  const api = new DemoApi(DEMO_KEY);
  await api.start();
  const apiHost = new URL(api.url).host;
  const nexus = await startTestApp({
    backend: 'embedded',
    config: { allowedReturnUrls: ['http://localhost:3000/'], outboundAllowedHosts: [apiHost], corsOrigins: [] },
  });
  const admin = clients(nexus.baseUrl, ADMIN_KEY);
  await admin.providers.createProvider({ provider: oauthProvider(auth, { name: 'demo-oauth', displayName: 'Demo OAuth', apiBaseUrl: api.url }) });
  await admin.providers.createProvider({
    provider: {
      name: 'demo-api-key',
      displayName: 'Demo API key',
      authType: AuthType.API_KEY,
      enabled: true,
      apiKey: { location: ApiKeyLocation.HEADER, name: 'X-Demo-Key' },
      apiBaseUrl: api.url,
    },
  });
  const nexusHost = new URL(nexus.baseUrl).host;
  return {
    nexus,
    auth,
    api,
    live: [
      ['http://localhost:8080', nexus.baseUrl],
      ['localhost:8080', nexusHost],
      ['http://127.0.0.1:9091', api.url],
      [DEMO_ADMIN_KEY, ADMIN_KEY],
    ],
    env: { NEXUS_API_KEY: ADMIN_KEY, API_URL: api.url },
    async close() {
      await api.stop();
      await nexus.close();
      await auth.stop();
    },
  };
}

/** `code` with the documented defaults replaced by the live values. */
export function live(code: string, env: DocsEnv): string {
  let out = code;
  for (const [from, to] of env.live) out = out.split(from).join(to);
  return out;
}

/**
 * The bash script of `block`: the `export` lines of the `sh` blocks before it in `blocks`
 * (what a reader's terminal still has), then the block itself.
 */
export function shellScript(blocks: DocBlock[], block: DocBlock): string {
  const earlier = blocks.slice(0, blocks.indexOf(block)).filter((b) => isLang(b, 'sh'));
  const exports = earlier.flatMap((b) => b.code.split('\n').filter((l) => /^export\s+[A-Za-z_]/.test(l)));
  return `set -euo pipefail\n${exports.join('\n')}\n${block.code}`;
}

/** Runs an `sh` block's code as it is with bash in `cwd`; returns stdout, or throws with both outputs. */
export async function runShell(block: DocBlock, cwd: string, env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await pexec('bash', ['-c', `set -euo pipefail\n${block.code}`], { cwd, env: userEnv(env), maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${where(block)} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Runs an `sh` block of `blocks` as a reader's terminal would (shellScript), with the live values, in `cwd`. */
export function runShellBlock(blocks: DocBlock[], block: DocBlock, cwd: string, docsEnv: DocsEnv, env: Record<string, string> = {}): Promise<string> {
  return runShell({ ...block, code: live(shellScript(blocks, block), docsEnv).replace(/^set -euo pipefail\n/, '') }, cwd, env);
}

/**
 * Plays the user for a program that printed a consent link (any line containing Nexus's
 * `/connect/…` URL): confirms on Nexus's page, consents at the authorization server and
 * opens the callback, as the person's browser would. Returns the callback's redirect.
 */
export async function consentWhenAsked(agent: Agent, env: DocsEnv, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const link = agent.lines.flatMap((l) => l.match(/https?:\/\/\S+\/connect\/[A-Za-z0-9_-]{43}/g) ?? []).find((u) => isConsentLink(u));
    if (link) {
      const providerUrl = await throughNexus(link);
      const callbackUrl = await env.auth.consent(providerUrl);
      const res = await user.fetch(callbackUrl);
      return res.headers.get('location') ?? '';
    }
    if (Date.now() > deadline) throw new Error(`no consent link printed\nstdout:\n${agent.lines.join('\n')}\nstderr:\n${agent.stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Runs a docs program to its end as its user: consents when it prints the link, expects the
 * consent to succeed and the program to exit 0 (a failure carries the program's output).
 * Returns a finder for its stdout: the first line starting with a prefix (or a message naming
 * the missing prefix, so an assertion on it shows the whole output).
 */
export async function runAsUser(agent: Agent, env: DocsEnv, block: DocBlock): Promise<(prefix: string) => string> {
  await agent.drive(async () => {
    const landed = await consentWhenAsked(agent, env);
    if (new URL(landed).searchParams.get('status') !== 'success') throw new Error(`${where(block)}: consent landed on ${landed}`);
    const code = await agent.exit();
    if (code !== 0) throw new Error(`${where(block)}: the program exited ${code}`);
  });
  const out = agent.lines;
  return (prefix) => out.find((l) => l.startsWith(prefix)) ?? `(no "${prefix}" line in:\n${out.join('\n')})`;
}
