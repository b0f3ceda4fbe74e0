import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidGrantError, InvalidTargetError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { mcpAuthMetadataRouter, mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { OAuthClientInformationFull, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import express, { type Response as ExpressResponse } from 'express';
import { throughNexus } from './consent.js';

interface Grant {
  clientId: string;
  scopes: string[];
  resource: string;
}

/**
 * A strict in-memory authorization server for the MCP SDK's auth router:
 * dynamic client registration, PKCE (checked by the SDK), and the RFC 8707
 * resource indicator required on authorize, token and refresh requests and
 * bound to every code and token. Counters let tests see what Nexus sent.
 */
class StrictProvider implements OAuthServerProvider {
  readonly clients = new Map<string, OAuthClientInformationFull>();
  registrations = 0;
  authorizeRequests: URLSearchParams[] = [];
  tokenRequests: { grant: 'authorization_code' | 'refresh_token'; resource: string | undefined; clientId: string }[] = [];
  private readonly codes = new Map<string, Grant & { challenge: string; redirectUri: string }>();
  private readonly accessTokens = new Map<string, Grant & { expiresAt: number }>();
  private readonly refreshTokens = new Map<string, Grant>();
  expiresIn = 3600;

  constructor(private readonly expectedResource: () => string) {}

  get clientsStore(): OAuthRegisteredClientsStore {
    return {
      getClient: (id) => this.clients.get(id),
      registerClient: (client) => {
        this.registrations++;
        const full = client as OAuthClientInformationFull;
        this.clients.set(full.client_id, full);
        return full;
      },
    };
  }

  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: ExpressResponse): Promise<void> {
    const target = new URL(params.redirectUri);
    if (params.state) target.searchParams.set('state', params.state);
    if (params.resource?.href !== this.expectedResource()) {
      target.searchParams.set('error', 'invalid_target');
      res.redirect(302, target.href);
      return;
    }
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, {
      clientId: client.client_id,
      scopes: params.scopes ?? [],
      resource: params.resource.href,
      challenge: params.codeChallenge,
      redirectUri: params.redirectUri,
    });
    target.searchParams.set('code', code);
    res.redirect(302, target.href);
  }

  async challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    const grant = this.codes.get(code);
    if (!grant || grant.clientId !== client.client_id) throw new InvalidGrantError('unknown code');
    return grant.challenge;
  }

  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    _verifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    this.tokenRequests.push({ grant: 'authorization_code', resource: resource?.href, clientId: client.client_id });
    const grant = this.codes.get(code);
    this.codes.delete(code); // single use
    if (!grant || grant.clientId !== client.client_id) throw new InvalidGrantError('unknown code');
    if (redirectUri !== grant.redirectUri) throw new InvalidGrantError('redirect_uri mismatch');
    if (resource?.href !== grant.resource) throw new InvalidTargetError('resource must match the authorization request');
    return this.issue(grant);
  }

  async exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, _scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    this.tokenRequests.push({ grant: 'refresh_token', resource: resource?.href, clientId: client.client_id });
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant || grant.clientId !== client.client_id) throw new InvalidGrantError('unknown refresh token');
    if (resource?.href !== grant.resource) throw new InvalidTargetError('resource must match the original grant');
    this.refreshTokens.delete(refreshToken); // rotated
    return this.issue(grant);
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const grant = this.accessTokens.get(token);
    if (!grant || grant.expiresAt < Date.now() / 1000) throw new InvalidTokenError('unknown or expired token');
    return { token, clientId: grant.clientId, scopes: grant.scopes, expiresAt: grant.expiresAt, resource: new URL(grant.resource) };
  }

  async revokeToken(_client: OAuthClientInformationFull, request: { token: string }): Promise<void> {
    this.accessTokens.delete(request.token);
    this.refreshTokens.delete(request.token);
  }

  /** A token the user got some other way (for bearer connections), for any resource. */
  mint(resource: string, clientId = 'outside-client'): string {
    return this.issue({ clientId, scopes: [], resource }).access_token;
  }

  private issue(grant: Grant): OAuthTokens {
    const access = `at_${randomUUID()}`;
    const refresh = `rt_${randomUUID()}`;
    this.accessTokens.set(access, { ...grant, expiresAt: Math.floor(Date.now() / 1000) + this.expiresIn });
    this.refreshTokens.set(refresh, grant);
    return { access_token: access, token_type: 'Bearer', expires_in: this.expiresIn, refresh_token: refresh, scope: grant.scopes.join(' ') };
  }
}

/** What a misbehaving server answers for one extra resource path, `/<name>/mcp`. */
export type BadMetadata = { redirect: string } | { json: unknown } | { text: string };

/**
 * A remote MCP server (Streamable HTTP, one `whoami` tool) protected by a
 * separate local OAuth authorization server, both on loopback:
 * - the AS is the MCP SDK's auth router (metadata, DCR, authorize, token,
 *   revoke) over StrictProvider;
 * - the MCP server publishes RFC 9728 metadata, answers unauthenticated
 *   requests with 401 and a `resource_metadata` challenge, and accepts only
 *   tokens minted for its own URL (the SDK's expectedResource check).
 * `bad` serves malformed or dangerous metadata on other paths, for the
 * refusal tests.
 */
export class TestMcpServer {
  readonly bad = new Map<string, BadMetadata>();

  private constructor(
    readonly provider: StrictProvider,
    private readonly servers: Server[],
    readonly asUrl: string,
    readonly mcpOrigin: string,
  ) {}

  get serverUrl(): string {
    return `${this.mcpOrigin}/mcp`;
  }
  get asPort(): number {
    return Number(new URL(this.asUrl).port);
  }
  get mcpPort(): number {
    return Number(new URL(this.mcpOrigin).port);
  }
  /** The allow-list entries a Nexus under test needs to reach both servers. */
  get allowedHosts(): string[] {
    return [`127.0.0.1:${this.asPort}`, `127.0.0.1:${this.mcpPort}`];
  }

  static async start(): Promise<TestMcpServer> {
    let serverUrl = '';
    const provider = new StrictProvider(() => serverUrl);

    const asApp = express();
    asApp.use((req, _res, next) => {
      if (req.path === '/authorize') provider.authorizeRequests.push(new URLSearchParams(req.url.split('?')[1] ?? ''));
      next();
    });
    const asServer = await listen(asApp);
    const asUrl = `http://127.0.0.1:${(asServer.address() as AddressInfo).port}/`;
    asApp.use(
      mcpAuthRouter({
        provider,
        issuerUrl: new URL(asUrl),
        scopesSupported: ['tools'],
        authorizationOptions: { rateLimit: false },
        tokenOptions: { rateLimit: false },
        clientRegistrationOptions: { rateLimit: false },
        revocationOptions: { rateLimit: false },
      }),
    );

    const mcpApp = express();
    const mcpServer = await listen(mcpApp);
    const mcpOrigin = `http://127.0.0.1:${(mcpServer.address() as AddressInfo).port}`;
    serverUrl = `${mcpOrigin}/mcp`;
    const server = new TestMcpServer(provider, [asServer, mcpServer], asUrl, mcpOrigin);

    // Misbehaving metadata for /<name>/mcp, before the real routes.
    mcpApp.get('/.well-known/oauth-protected-resource/:name/mcp', (req, res, next) => {
      const bad = server.bad.get(req.params.name);
      if (!bad) return next();
      if ('redirect' in bad) return res.redirect(302, bad.redirect);
      if ('json' in bad) return res.json(bad.json);
      res.type('application/json').send(bad.text);
    });
    // A fake authorization server without PKCE, for the "no S256" refusal.
    mcpApp.get('/.well-known/oauth-authorization-server/no-pkce-as', (_req, res) => {
      res.json({
        issuer: `${mcpOrigin}/no-pkce-as`,
        authorization_endpoint: `${mcpOrigin}/no-pkce-as/authorize`,
        token_endpoint: `${mcpOrigin}/no-pkce-as/token`,
        response_types_supported: ['code'],
      });
    });

    const oauthMetadata = await (await fetch(new URL('.well-known/oauth-authorization-server', asUrl))).json();
    mcpApp.use(mcpAuthMetadataRouter({ oauthMetadata, resourceServerUrl: new URL(serverUrl), scopesSupported: ['tools'] }));
    const auth = requireBearerAuth({
      verifier: provider,
      expectedResource: new URL(serverUrl),
      resourceMetadataUrl: `${mcpOrigin}/.well-known/oauth-protected-resource/mcp`,
    });
    mcpApp.all('/mcp', express.json(), auth, async (req, res) => {
      // Stateless: a server and transport per request.
      const mcp = new McpServer({ name: 'nexus-test-mcp', version: '1.0.0' });
      mcp.registerTool('whoami', { description: 'Who the bearer token belongs to' }, async (extra) => ({
        content: [{ type: 'text', text: JSON.stringify({ clientId: extra.authInfo?.clientId, resource: String(extra.authInfo?.resource) }) }],
      }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void mcp.close();
      });
      await mcp.connect(transport);
      await transport.handleRequest(req, res, req.body);
    });
    return server;
  }

  /** Plays the user at the consent screen: opens auth_url and returns where the AS redirects (Nexus's callback). */
  async consent(authUrl: string): Promise<string> {
    // A Nexus consent link is confirmed on Nexus's page first, as the person would.
    const res = await fetch(await throughNexus(authUrl), { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status !== 302 || !location) throw new Error(`authorization server answered ${res.status}: ${await res.text()}`);
    return location;
  }

  /** The AS forgets every registered client (as when it drops stale registrations). */
  forgetClients(): void {
    this.provider.clients.clear();
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  }
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}
