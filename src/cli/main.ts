import cluster from 'node:cluster';
import { writeSecretFile } from '../config/secret-file.js';
import path from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { createCore, type Core } from '../core.js';
import { createApiKey, listApiKeys, parseDuration, revokeApiKey, rotateApiKey } from './api-keys.js';
import { createProject, deleteProject, getProject, listProjects, updateProject } from './projects.js';
import { QUOTA_OPTIONS, setQuotas, showQuotas } from './quotas.js';
import { exportAudit, parseCursor, parseSince, verifyAudit } from './audit.js';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  parseList,
  parseStatus,
  redeliverWebhook,
  rotateWebhookSecret,
  updateWebhook,
} from './webhooks.js';
import { ConfigError, loadConfig, loadOutboundSettings, type Config } from '../config/config.js';
import { EmbeddedDatabaseLockedError } from '../storage/data-dir-lock.js';
import { resealAll, type ResealReport } from '../domain/keys/key-rotation.js';
import { DEFAULT_PROJECT_ID } from '../domain/shared/workspace-scope.js';
import { parseScopes } from '../domain/shared/principal.js';
import { NexusError } from '../domain/shared/errors.js';
import { readProvidersFile } from './providers-file.js';
import { ProviderCatalog } from '../domain/catalog/provider-catalog.js';
import { checkCatalog, describeCheck } from '../domain/catalog/catalog-check.js';
import { OutboundPolicy } from '../domain/outbound/outbound-policy.js';
import { createSafeFetch } from '../domain/outbound/safe-fetch.js';
import { applyPlan, describePlan, hasChanges, planProviders } from '../domain/providers/provider-plan.js';
import { forwardIfServerRunning } from '../control/client.js';
import { hostedCommand } from '../hosted-command.js';
import { serveCommands } from '../control/server.js';

// The server (HTTP, Connect, handlers, worker) is loaded only by the commands that run it: the
// one-shot commands below build the core alone (core.ts), so they start in a fraction of the time.
const server = () => import('./start.js');

const program = new Command('nexus').description('Nexus: a credential broker for AI agents');
// One-shot commands log only warnings, to stderr.
const quietLogger = () => pino({ level: 'warn' }, pino.destination(2));

// While a server runs on the embedded data directory, admin commands run inside it, through its
// control socket (src/control/): this process exits with the command's exit code there.
program.hook('preAction', async (_program, command) => {
  const exit = await forwardIfServerRunning(command);
  if (exit !== undefined) process.exit(exit);
});
serveCommands(program);

program
  .command('start', { isDefault: true })
  .description('run the server (migrations run first)')
  .option('--workers <n>', 'server processes sharing the port: a number or "auto" (one per core); default NEXUS_WORKERS or 1')
  .action(async (opts: { workers?: string }) => {
    const config = loadConfig();
    const { start } = await server();
    // A cluster worker runs this same command line: it serves, the primary did the set-up.
    if (cluster.isWorker) return start(config, { generateAdminKey: false });
    const { parseWorkers, runPrimary } = await import('./cluster.js');
    const workers = parseWorkers(opts.workers ?? process.env.NEXUS_WORKERS);
    return workers > 1 ? runPrimary(config, workers) : start(config);
  });

program
  .command('worker')
  .description('run only the background refresh worker (health checks and /metrics on PORT, no API)')
  .action(async () => (await server()).start(loadConfig(), { mode: 'worker' }));

program
  .command('migrate')
  .description('run database migrations and exit')
  .action(async () => {
    const app = await createCore(oneShotConfig(), quietLogger());
    await app.close();
    console.log('migrations are up to date');
  });

/**
 * The configuration of a one-shot command. Only a server registers NEXUS_ADMIN_API_KEY (and
 * retires the key it replaces): a command run from a shell whose value differs from the
 * server's must neither revoke the server's admin key nor be refused for holding an old one.
 */
function oneShotConfig(): Config {
  return { ...loadConfig(), adminApiKey: undefined };
}

/** Opens the app for a one-shot command, runs it, prints its output, closes. */
async function oneShot(command: (app: Core, config: Config) => Promise<string>): Promise<void> {
  const config = oneShotConfig();
  const app = await createCore(config, quietLogger());
  try {
    console.log(await command(app, config));
  } finally {
    await app.close();
  }
}

const createKeyCommand = (command: Command) =>
  command
    .description('create an API key and print it once')
    .requiredOption('--name <name>', 'a label for the key')
    .option('--scopes <scopes>', 'comma-separated: admin, connections, tokens (operator: installation project only)', 'connections,tokens')
    .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
    .option('--expires-in <duration>', 'the key stops working after this long: 30d, 12h, 90m (default: never)')
    .action(async (opts: { name: string; scopes: string; project: string; expiresIn?: string }) => {
      const scopes = parseScopes(
        opts.scopes
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
      const ttlMs = opts.expiresIn === undefined ? undefined : parseDuration(opts.expiresIn, '--expires-in');
      await oneShot((app) => createApiKey(app, opts.project, opts.name, scopes, ttlMs));
    });

const apiKeys = program.command('api-keys').description('list, create, revoke and rotate API keys (docs/governance.md)');
apiKeys
  .command('list')
  .description("list the project's API keys (id, name, a short non-secret prefix, scopes, status)")
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (opts: { project: string }) => oneShot((app) => listApiKeys(app, opts.project)));
createKeyCommand(apiKeys.command('create'));
apiKeys
  .command('revoke')
  .description('revoke an API key by id; every replica refuses it within a second and its open streams end')
  .argument('<id>', 'the key id, as "nexus api-keys list" shows it')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (id: string, opts: { project: string }) => oneShot((app) => revokeApiKey(app, opts.project, id)));
apiKeys
  .command('rotate')
  .description('replace an API key: print a new one (same name, scopes and lifetime); the old one works until the overlap ends')
  .argument('<id>', 'the key id, as "nexus api-keys list" shows it')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .option('--overlap <duration>', 'how long the old key keeps working: 0s to 30d', '1h')
  .action(async (id: string, opts: { project: string; overlap: string }) =>
    oneShot((app) => rotateApiKey(app, opts.project, id, parseDuration(opts.overlap, '--overlap'))),
  );

const projects = program.command('projects').description('create, list, show, change and delete projects (the installation operator; docs/governance.md)');
const projectSettings = (command: Command) =>
  command
    .option('--display-name <name>', 'the name shown to people')
    .option('--return-urls <urls>', 'comma-separated return URLs CreateConnection accepts (empty: NEXUS_ALLOWED_RETURN_URLS)')
    .option('--cors-origins <origins>', 'comma-separated browser origins allowed to call the API, added to NEXUS_CORS_ORIGINS')
    .option('--brand-name <name>', 'web app branding: the name shown')
    .option('--brand-logo <url>', 'web app branding: a logo URL')
    .option('--brand-color <#rrggbb>', 'web app branding: the accent colour');
projectSettings(projects.command('create').description('create a project').argument('<name>', 'a unique slug: a-z, 0-9 and "-"')).action(
  async (name: string, opts: Record<string, string | undefined>) => oneShot((app) => createProject(app, name, opts)),
);
projects
  .command('list')
  .description('every project: id, name, display name, creation')
  .action(async () => oneShot((app) => listProjects(app)));
projects
  .command('get')
  .description('a project and its settings')
  .argument('<id>', 'the project id')
  .action(async (id: string) => oneShot((app) => getProject(app, id)));
projectSettings(projects.command('update').description('change the settings given (others stay)').argument('<id>', 'the project id')).action(
  async (id: string, opts: Record<string, string | undefined>) => oneShot((app) => updateProject(app, id, opts)),
);
projects
  .command('delete')
  .description('delete a project and everything in it; refused while it has connections unless --force')
  .argument('<id>', 'the project id')
  .option('--force', 'revoke its connections at their providers first')
  .action(async (id: string, opts: { force?: boolean }) => oneShot((app) => deleteProject(app, id, opts.force ?? false)));
// The session-1 spelling, kept for existing scripts.
createKeyCommand(program.command('api-keys:create'));

const quotas = program.command('quotas').description("a project's call quotas, per API key and per client IP (docs/governance.md)");
quotas
  .command('show')
  .description('the quotas that apply to the project, and which are its own')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (opts: { project: string }) => oneShot((app) => showQuotas(app, opts.project)));
quotas
  .command('set')
  .description('give the project its own quotas (running servers apply them within 5 s); "default" restores the installation\'s')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .option(`--${QUOTA_OPTIONS.keyRatePerSecond} <n>`, 'calls per second per API key (0: no limit)')
  .option(`--${QUOTA_OPTIONS.keyBurst} <n>`, 'calls at once per API key')
  .option(`--${QUOTA_OPTIONS.ipRatePerSecond} <n>`, 'calls per second per client IP, every key of the project together (0: no limit)')
  .option(`--${QUOTA_OPTIONS.ipBurst} <n>`, 'calls at once per client IP')
  .action(async (opts: { project: string; keyRate?: string; keyBurst?: string; ipRate?: string; ipBurst?: string }) =>
    oneShot((app) =>
      setQuotas(app, opts.project, { keyRatePerSecond: opts.keyRate, keyBurst: opts.keyBurst, ipRatePerSecond: opts.ipRate, ipBurst: opts.ipBurst }),
    ),
  );

const webhooks = program.command('webhooks').description("a project's signed webhook endpoints and their deliveries (docs/webhooks.md)");
webhooks
  .command('create')
  .description('add an endpoint and print its signing secret once')
  .requiredOption('--url <url>', 'where to POST messages: https (http only for a host on NEXUS_OUTBOUND_ALLOWED_HOSTS, outside production)')
  .option('--events <types>', 'comma-separated event types, e.g. connection.active,connection.revoked (default: every event)')
  .option('--description <text>', 'a note for people')
  .option('--disabled', 'create it paused (nothing is queued or sent until it is enabled)')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (opts: { url: string; events?: string; description?: string; disabled?: boolean; project: string }) =>
    oneShot((app) =>
      createWebhook(app, opts.project, { url: opts.url, eventTypes: parseList(opts.events), description: opts.description, enabled: !opts.disabled }),
    ),
  );
webhooks
  .command('list')
  .description("the project's endpoints: id, URL, events, status (never a secret)")
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (opts: { project: string }) => oneShot((app) => listWebhooks(app, opts.project)));
webhooks
  .command('get')
  .description('an endpoint and its live secrets (ids and expiry only)')
  .argument('<id>', 'the endpoint id, as "nexus webhooks list" shows it')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (id: string, opts: { project: string }) => oneShot((app) => getWebhook(app, opts.project, id)));
webhooks
  .command('update')
  .description('change the settings given (others stay)')
  .argument('<id>', 'the endpoint id')
  .option('--url <url>', 'a new URL (checked as on create)')
  .option('--events <types>', 'comma-separated event types ("" for every event)')
  .option('--description <text>', 'a note for people')
  .option('--enable', 'resume: queue new events again and send what waited')
  .option('--disable', 'pause: queue no new events; queued deliveries wait, neither sent nor aged out')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (id: string, opts: { url?: string; events?: string; description?: string; enable?: boolean; disable?: boolean; project: string }) => {
    if (opts.enable && opts.disable) throw new Error('give --enable or --disable, not both');
    const enabled = opts.enable ? true : opts.disable ? false : undefined;
    await oneShot((app) => updateWebhook(app, opts.project, id, { url: opts.url, eventTypes: parseList(opts.events), description: opts.description, enabled }));
  });
webhooks
  .command('delete')
  .description('delete an endpoint and its deliveries')
  .argument('<id>', 'the endpoint id')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (id: string, opts: { project: string }) => oneShot((app) => deleteWebhook(app, opts.project, id)));
webhooks
  .command('rotate-secret')
  .description('print a new signing secret once; the previous one keeps signing too until the overlap ends')
  .argument('<id>', 'the endpoint id')
  .option('--overlap <duration>', 'how long the previous secret also signs: 0s to 7d', '24h')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (id: string, opts: { overlap: string; project: string }) =>
    oneShot((app) => rotateWebhookSecret(app, opts.project, id, parseDuration(opts.overlap, '--overlap'))),
  );
webhooks
  .command('deliveries')
  .description("an endpoint's deliveries, newest first: status, attempts, next attempt, last error")
  .argument('<id>', 'the endpoint id')
  .option('--status <status>', 'only pending, delivering, succeeded or dead')
  .option('--limit <n>', 'how many, 1 to 500', '50')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (id: string, opts: { status?: string; limit: string; project: string }) => {
    const status = parseStatus(opts.status);
    const limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new Error('--limit must be a whole number from 1 to 500');
    await oneShot((app) => listDeliveries(app, opts.project, id, { status, limit }));
  });
webhooks
  .command('redeliver')
  .description('send a succeeded or dead delivery again (same message id, fresh retries)')
  .argument('<delivery-id>', 'the delivery id, as "nexus webhooks deliveries" shows it')
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .action(async (deliveryId: string, opts: { project: string }) => oneShot((app) => redeliverWebhook(app, opts.project, deliveryId)));

const audit = program.command('audit').description('verify and export the audit log');
audit
  .command('verify')
  .description('check the hash chain of every project (or one): exits 1 naming the first edited, inserted or deleted event')
  .option('--project <id>', 'one project only')
  .action(async (opts: { project?: string }) => oneShot((app) => verifyAudit(app, opts.project)));
audit
  .command('export')
  .description("print the project's audit events as JSON lines, oldest first (nexus audit export > audit.jsonl)")
  .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
  .option('--since <time>', 'events at or after this time: ISO 8601, or a duration back from now (24h, 7d)')
  .option('--cursor <seq>', 'events after this seq (the "seq" of the last line of a previous export)')
  .action(async (opts: { project: string; since?: string; cursor?: string }) => {
    const since = opts.since ? parseSince(opts.since) : undefined;
    const cursor = opts.cursor ? parseCursor(opts.cursor) : undefined;
    const app = await createCore(oneShotConfig(), quietLogger());
    try {
      await exportAudit(app, { projectId: opts.project, since, cursor }, (lines) => console.log(lines));
    } finally {
      await app.close();
    }
  });

interface ApplyOptions {
  file: string;
  project: string;
  dryRun?: boolean;
  prune?: boolean;
}

/** Plan, print, apply: the file is read and every provider validated before the database is touched. */
async function applyProviders(opts: ApplyOptions): Promise<void> {
  const config = oneShotConfig();
  const desired = readProvidersFile(opts.file, ProviderCatalog.builtin());
  const app = await createCore(config, quietLogger());
  const admin = { projectId: opts.project, keyId: 'cli', scopes: new Set(['admin'] as const) };
  try {
    if (!(await app.store.projects.findById(opts.project))) throw new Error(`project ${opts.project} does not exist`);
    const steps = await planProviders(app.store, app.providers, opts.project, desired, {
      prune: opts.prune ?? false,
      allowInsecureUrls: !config.production,
    });
    console.log(`Plan for project ${opts.project} from ${opts.file}:\n${describePlan(steps)}`);
    if (!hasChanges(steps)) console.log('No changes.');
    else if (opts.dryRun) console.log('Dry run: nothing applied.');
    else {
      await applyPlan(app.providers, app.providerRemoval, admin, steps);
      console.log('Applied.');
    }
  } finally {
    await app.close();
  }
}

const applyCommand = (command: Command) =>
  command
    .description("make the project's providers match a YAML file: print the plan, then apply it")
    .requiredOption('-f, --file <path>', 'providers YAML file')
    .option('--project <id>', 'project id', DEFAULT_PROJECT_ID)
    .option('--dry-run', 'print the plan only')
    .option('--prune', 'delete providers that are not in the file (refused while connections use them)')
    .action(applyProviders);

applyCommand(program.command('providers').description('manage providers').command('apply'));
// The session-1 spelling, kept for existing scripts.
applyCommand(program.command('providers:apply'));

program
  .command('catalog')
  .description('the built-in provider catalog')
  .command('check')
  .description("fetch each entry's discovery document or endpoints and report what no longer matches (needs network access)")
  .argument('[names...]', 'catalog entries to check; all when none is given')
  .option('--timeout <ms>', 'timeout per request', '10000')
  .action(async (names: string[], opts: { timeout: string }) => {
    const catalog = ProviderCatalog.builtin();
    const entries = names.length ? names.map((n) => catalog.get(n)) : catalog.all;
    const fetch = createSafeFetch(new OutboundPolicy(loadOutboundSettings()), { timeoutMs: Number(opts.timeout) || 10_000, maxBodyBytes: 256 * 1024 });
    const results = await checkCatalog(entries, fetch);
    console.log(describeCheck(results));
    if (results.some((r) => r.status === 'changed' || r.status === 'unreachable')) process.exitCode = 1;
  });

program
  .command('keys:rotate')
  .description('add a new primary encryption key and re-seal every secret under it')
  .action(async () => {
    const config = oneShotConfig();
    const next = config.keyRing.withNewPrimary();
    if (config.keyRingSource === 'env') {
      // The ring lives in the environment of every replica; only the operator can change it, in
      // steps, so no replica ever meets a key it does not hold during a rolling restart.
      const newKey = next.toSpec().split(',')[0]!;
      console.log(
        [
          'Rotate in three rolling restarts:',
          `1. append the new key to NEXUS_ENCRYPTION_KEYS on every replica (it can decrypt, does not yet encrypt): ${config.keyRing.toSpec()},${newKey}`,
          `2. move it first on every replica (it now encrypts): ${next.toSpec()}`,
          '3. run "nexus keys:reseal"; once it reports nothing left, the old keys may be removed.',
        ].join('\n'),
      );
      return;
    }
    const file = path.join(config.dataDir, 'encryption-keys');
    const hosted = hostedCommand();
    if (hosted) {
      // Run by the server that uses this ring (its control socket): the file first, then every
      // service of the server seals under the new primary, then the old values are re-sealed.
      const ring = hosted.config.keyRing;
      const app = await createCore(config, quietLogger()); // the server's own core (hostedApp)
      const rotated = ring.withNewPrimary();
      writeSecretFile(file, `${rotated.toSpec()}\n`);
      ring.adopt(rotated);
      const report = await resealAll(app.store, ring);
      console.log(`new primary key ${ring.primary.id}; ${describe(report)}`);
      return;
    }
    // A new file renamed over the old one: a crash mid-write leaves the old ring, never half of one.
    writeSecretFile(file, `${next.toSpec()}\n`);
    const app = await createCore({ ...config, keyRing: next }, quietLogger());
    try {
      const report = await resealAll(app.store, next);
      console.log(`new primary key ${next.primary.id}; ${describe(report)}`);
    } finally {
      await app.close();
    }
  });

program
  .command('keys:reseal')
  .description('re-seal every secret not yet under the primary encryption key')
  .action(async () => oneShot(async (app, config) => `under ${config.keyRing.primary.id}: ${describe(await resealAll(app.store, config.keyRing))}`));

program
  .command('keys:rotate-signing')
  .description('add a new JWT signing key for user access tokens; older keys keep verifying (and stay in the JWKS) for a day')
  .action(async () => oneShot(async (app) => `new signing key ${await app.signingKeys.rotate()}; replicas pick it up within a minute`));

function describe(report: ResealReport): string {
  const unreadable = report.unreadable.length ? `; ${report.unreadable.length} unreadable row(s) left as they were: ${report.unreadable.join(', ')}` : '';
  return `re-sealed ${report.connections} connection(s), ${report.providerSecrets} provider secret(s), ${report.signingKeys} signing key(s), ${report.webhookSecrets} webhook secret(s)${unreadable}`;
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof NexusError || err instanceof EmbeddedDatabaseLockedError) console.error(`nexus: ${err.message}`);
  else console.error('nexus:', err instanceof Error ? err.message : err);
  process.exit(1);
});
