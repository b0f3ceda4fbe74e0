// An example agent using @nexus-broker/client (Connect over fetch). It connects a user to every
// provider of the test environment, then calls each provider's API through nexusFetch.
// Run by test/clients/ts-client.test.ts, which plays the user; see its line protocol there.
import { createInterface } from 'node:readline';
import {
  AttentionRequiredError,
  InvalidArgumentError,
  NexusError,
  NotFoundError,
  StrategyType,
  TokenSource,
  createNexusClient,
  nexusFetch,
} from '@nexus-broker/client';
import { awsSigV4 } from '@nexus-broker/client/aws';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const say = (...parts: string[]) => console.log(parts.join(' '));
const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const waitForUser = async () => {
  await stdin.next();
};

const nexus = createNexusClient({ baseUrl: env('NEXUS_ADDR'), apiKey: env('NEXUS_API_KEY') });
const returnUrl = env('NEXUS_RETURN_URL');
const workspaceId = 'ts-agent-user';
const testApi = env('TEST_API_URL');
const staticCredentials = JSON.parse(env('NEXUS_STATIC_CREDENTIALS')) as Record<string, Record<string, string>>;

/** Calls the provider's API through the injection layer. */
async function call(provider: string, connectionId: string): Promise<number> {
  const fetchWithCredentials = nexusFetch({ client: nexus, connectionId, awsSigV4 });
  const res = await fetchWithCredentials(`${testApi}/check/${provider}?q=a%20b&z=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hello: 'world' }),
  });
  await res.text();
  return res.status;
}

const connections: Record<string, string> = {};

// Static credentials: create the connection, then submit what the user typed.
for (const [provider, credentials] of Object.entries(staticCredentials)) {
  const created = await nexus.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: provider }, returnUrl });
  const submitted = await nexus.connections.submitCredentials({ state: created.state, credentials });
  connections[provider] = submitted.connection!.id;
  say('connected', provider, submitted.connection!.id);
}

// OAuth2: the user consents in a browser.
const oauthProvider = env('NEXUS_OAUTH_PROVIDER');
const created = await nexus.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: oauthProvider }, returnUrl });
say('auth_url', created.authUrl);
await waitForUser();
connections[oauthProvider] = created.connection!.id;
say('connected', oauthProvider, created.connection!.id);

for (const provider of ['key-header', 'sigv4', oauthProvider]) {
  const token = await new TokenSource({ client: nexus, connectionId: connections[provider]! }).token();
  say('token', provider, `STRATEGY_TYPE_${StrategyType[token.strategy!.type]}`);
}
for (const [provider, id] of Object.entries(connections)) say('call', provider, String(await call(provider, id)));

async function expectError(label: string, action: () => Promise<unknown>) {
  try {
    await action();
    say('error', label, 'none');
  } catch (err) {
    if (!(err instanceof NexusError)) throw err;
    say('error', label, err.name, err.reason);
  }
}
const tokens = (connectionId: string) => new TokenSource({ client: nexus, connectionId });
await expectError('not_found', () => tokens('conn_00000000000000000000000000').token());
await expectError('invalid_argument', () => tokens('').token());

say('await attention');
await waitForUser();
try {
  await call(oauthProvider, connections[oauthProvider]!);
  say('error', 'attention_required', 'none');
} catch (err) {
  if (err instanceof AttentionRequiredError) {
    // Show the user: err.userMessage, and offer to reconnect.
    say('error', 'attention_required', err.name, err.reason);
  } else if (err instanceof NotFoundError || err instanceof InvalidArgumentError) {
    say('error', 'attention_required', err.name, err.reason);
  } else {
    throw err;
  }
}
say('done');
process.exit(0);
