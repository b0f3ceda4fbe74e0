import { useEffect, useMemo, useState } from 'preact/hooks';
import { ConnectionStatus, type Connection } from '../../../gen/ts/nexus/v1/connection_pb.js';
import type { Provider } from '../../../gen/ts/nexus/v1/provider_pb.js';
import { loadCaptureForm, submitCapture, type CaptureForm } from '../api/capture.js';
import { createApi, transport } from '../api/client.js';
import { fieldErrorsOf, isSessionLost, problemOf } from '../api/errors.js';
import {
  categoriesOf,
  categoryLabel,
  connectionFieldsSchema,
  filterProviders,
  label,
  usesConsent,
  listAllConnections,
  listAllProviders,
  STATUS_TEXT,
  visibleConnections,
} from '../api/manage.js';
import { clearSession, type WebSession } from '../api/session.js';
import { Dialog } from '../components/Dialog.js';
import { Logo } from '../components/Logo.js';
import { SchemaForm, type SubmitResult } from '../components/SchemaForm.js';
import type { JsonSchema } from '../schema.js';

export interface Notice {
  kind: 'success' | 'error' | 'info';
  text: string;
}

type Modal =
  | { type: 'connection-fields'; provider: Provider; schema: JsonSchema }
  | { type: 'credentials'; provider: Provider; connectionId: string; state: string; form: CaptureForm }
  | { type: 'fields'; connection: Connection; schema: JsonSchema }
  | { type: 'disconnect'; connection: Connection };

interface Props {
  session: WebSession;
  notice?: Notice;
  /** A connection that came back from consent needing post-OAuth fields. */
  pendingConnectionId?: string;
  onSessionLost: () => void;
}

/** Where OAuth providers send the user back to: this app (Nexus adds status and connection_id). */
export function appReturnUrl(): string {
  return new URL(import.meta.env.BASE_URL, location.origin).href;
}

export function ManagePage({ session, notice: initialNotice, pendingConnectionId, onSessionLost }: Props) {
  const api = useMemo(() => createApi(transport(() => session.accessToken)), [session.accessToken]);
  const [providers, setProviders] = useState<Provider[]>();
  const [connections, setConnections] = useState<Connection[]>([]);
  const [notice, setNotice] = useState<Notice | undefined>(initialNotice);
  const [query, setQuery] = useState('');
  const [category, setCategory] = useState('');
  const [busy, setBusy] = useState('');
  const [modal, setModal] = useState<Modal>();

  /** Runs an RPC-backed action; a lost session ends the page, other failures become a notice. */
  const guard = async (action: () => Promise<void>, what: string) => {
    try {
      await action();
    } catch (err) {
      const p = problemOf(err);
      if (isSessionLost(p)) return onSessionLost();
      setNotice({ kind: 'error', text: `${what}: ${p.message || 'something went wrong'}` });
    }
  };

  /** A form's RPC failed: a lost session ends the page; anything else is shown in the form, by field where the server named one. */
  const formErrorsOf = (err: unknown): SubmitResult | undefined => {
    const p = problemOf(err);
    if (isSessionLost(p)) {
      onSessionLost();
      return undefined;
    }
    const { fields, other } = fieldErrorsOf(p);
    return { fields, form: other.join(' ') || (Object.keys(fields).length ? '' : p.message) };
  };

  const reload = () =>
    guard(async () => {
      const [ps, cs] = await Promise.all([listAllProviders(api, session.projectId), listAllConnections(api, session.workspaceId)]);
      setProviders(ps);
      setConnections(cs);
    }, 'Could not load your connections');

  useEffect(() => {
    void reload();
    if (pendingConnectionId) {
      void guard(async () => {
        const [res, got] = await Promise.all([
          api.connections.getPendingFields({ connectionId: pendingConnectionId }),
          api.connections.getConnection({ connectionId: pendingConnectionId }),
        ]);
        setModal({ type: 'fields', connection: got.connection!, schema: (res.schema ?? {}) as JsonSchema });
      }, 'Could not finish the connection');
    }
  }, []);

  const byId = useMemo(() => new Map((providers ?? []).map((p) => [p.id, p])), [providers]);
  const shown = useMemo(() => visibleConnections(connections), [connections]);
  const activeProviders = useMemo(() => new Set(shown.filter((c) => c.status === ConnectionStatus.ACTIVE).map((c) => c.providerId)), [shown]);
  const categories = useMemo(() => categoriesOf(providers ?? []), [providers]);
  const matching = useMemo(() => filterProviders(providers ?? [], query, category), [providers, query, category]);
  const nameOf = (c: Connection) => {
    const p = byId.get(c.providerId);
    return p ? label(p) : c.providerName;
  };

  /** Creates the connection (with its connection fields, if the provider takes any) and takes the user to the next step. */
  const begin = async (provider: Provider, fields?: Record<string, string | number | boolean>) => {
    const created = await api.connections.createConnection({
      workspaceId: session.workspaceId,
      provider: { case: 'providerId', value: provider.id },
      returnUrl: appReturnUrl(),
      ...(fields ? { fields } : {}),
    });
    if (usesConsent(provider)) {
      // Off to the provider's consent screen (OAuth, or an MCP server's); it comes back to this app with the outcome.
      location.assign(created.authUrl);
      return;
    }
    const loaded = await loadCaptureForm(api, created.state);
    if ('problem' in loaded) {
      setModal(undefined);
      setNotice({ kind: 'error', text: `Could not connect ${label(provider)}: ${loaded.problem.title}.` });
    } else setModal({ type: 'credentials', provider, connectionId: created.connection!.id, state: created.state, form: loaded.form });
  };

  /** The credential form was closed without submitting: the PENDING connection it was for goes too. */
  const abandon = (connectionId: string) => {
    setModal(undefined);
    void guard(() => api.connections.deleteConnection({ connectionId }).then(() => undefined), 'Could not cancel the connection');
  };

  const connect = (provider: Provider) => {
    // Templated providers (a Zendesk subdomain, a Shopify shop) ask for their connection fields first.
    const fieldsSchema = connectionFieldsSchema(provider);
    if (fieldsSchema) {
      setModal({ type: 'connection-fields', provider, schema: fieldsSchema });
      return Promise.resolve();
    }
    return guard(
      async () => {
        setBusy(provider.id);
        try {
          await begin(provider);
        } finally {
          setBusy('');
        }
      },
      `Could not connect ${label(provider)}`,
    );
  };

  const disconnect = (connection: Connection) =>
    guard(
      async () => {
        await api.connections.deleteConnection({ connectionId: connection.id });
        setModal(undefined);
        setNotice({ kind: 'success', text: `Disconnected ${nameOf(connection)}.` });
        await reload();
      },
      `Could not disconnect ${nameOf(connection)}`,
    );

  const back = () => clearSession();

  return (
    <>
      <header class="brand-bar">
        <div class="brand">
          <Logo url={session.client.logoUrl} name={session.client.displayName} size={44} />
          <div>
            <p class="eyebrow" id="client-name">
              {session.client.displayName}
            </p>
            <h1>Manage connections</h1>
          </div>
        </div>
        <a class="button secondary" id="back-to-app" href={session.redirectUri} onClick={back}>
          Back to {session.client.displayName}
        </a>
      </header>
      <main class="manage">
        <div id="notice" class={`notice ${notice?.kind ?? ''}`} role={notice?.kind === 'error' ? 'alert' : 'status'} aria-live="polite">
          {notice && (
            <>
              <span class="notice-text">{notice.text}</span>
              <button type="button" class="icon-button" aria-label="Dismiss message" onClick={() => setNotice(undefined)}>
                ×
              </button>
            </>
          )}
        </div>

        <section aria-labelledby="connections-heading">
          <h2 id="connections-heading">Your connections</h2>
          {providers === undefined ? (
            <p role="status">Loading…</p>
          ) : shown.length === 0 ? (
            <p class="empty">You have not connected any service yet. Choose one below.</p>
          ) : (
            <ul class="connection-list" id="connections">
              {shown.map((c) => {
                const p = byId.get(c.providerId);
                const attention = c.status === ConnectionStatus.ATTENTION_REQUIRED || c.status === ConnectionStatus.FAILED;
                return (
                  <li class="connection" key={c.id} data-connection-id={c.id} data-provider={c.providerName} data-status={ConnectionStatus[c.status]}>
                    <Logo url={p?.logoUrl ?? ''} name={nameOf(c)} />
                    <div class="connection-body">
                      <h3>{nameOf(c)}</h3>
                      <p>
                        <span class={`badge status-${ConnectionStatus[c.status].toLowerCase()}`}>{STATUS_TEXT[c.status]}</span>
                        {c.status === ConnectionStatus.ATTENTION_REQUIRED && <span class="reason"> Sign in again to keep it working.</span>}
                        {c.status === ConnectionStatus.FAILED && (
                          <span class="reason"> The last attempt did not succeed{c.statusReason ? ` (${c.statusReason})` : ''}.</span>
                        )}
                      </p>
                    </div>
                    <div class="connection-actions">
                      {attention && p && (
                        <button
                          type="button"
                          class="button primary"
                          disabled={busy === p.id}
                          onClick={() => void connect(p)}
                          aria-label={`Reconnect ${nameOf(c)}`}
                        >
                          Reconnect
                        </button>
                      )}
                      <button
                        type="button"
                        class="button danger"
                        onClick={() => setModal({ type: 'disconnect', connection: c })}
                        aria-label={`Disconnect ${nameOf(c)}`}
                      >
                        {c.status === ConnectionStatus.FAILED ? 'Remove' : 'Disconnect'}
                      </button>
                    </div>
                  </li>
                );
              })}
            </ul>
          )}
        </section>

        <section aria-labelledby="providers-heading">
          <h2 id="providers-heading">Add a connection</h2>
          <div class="filters" role="search">
            <div class="filter">
              <label for="provider-search">Search services</label>
              <input
                id="provider-search"
                type="search"
                value={query}
                onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
                autoComplete="off"
              />
            </div>
            <div class="filter">
              <label for="provider-category">Category</label>
              <select id="provider-category" value={category} onChange={(e) => setCategory((e.currentTarget as HTMLSelectElement).value)}>
                <option value="">All categories</option>
                {categories.map((c) => (
                  <option key={c} value={c}>
                    {categoryLabel(c)}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <p class="result-count" role="status" aria-live="polite" id="provider-count">
            {providers === undefined ? '' : `${matching.length} ${matching.length === 1 ? 'service' : 'services'}`}
          </p>
          <ul class="provider-grid" id="providers">
            {matching.map((p) => (
              <li class="provider" key={p.id} data-provider={p.name}>
                <div class="provider-head">
                  <Logo url={p.logoUrl} name={label(p)} />
                  <h3>{label(p)}</h3>
                </div>
                {p.description && <p class="description">{p.description}</p>}
                {p.categories.length > 0 && (
                  <ul class="categories" aria-label="Categories">
                    {p.categories.map((c) => (
                      <li key={c}>{categoryLabel(c)}</li>
                    ))}
                  </ul>
                )}
                <button
                  type="button"
                  class="button primary"
                  disabled={busy === p.id}
                  onClick={() => void connect(p)}
                  aria-label={`${activeProviders.has(p.id) ? 'Reconnect' : 'Connect'} ${label(p)}`}
                >
                  {busy === p.id ? 'Connecting…' : activeProviders.has(p.id) ? 'Reconnect' : 'Connect'}
                </button>
              </li>
            ))}
          </ul>
        </section>
      </main>

      {modal?.type === 'connection-fields' && (
        <Dialog title={`Connect ${label(modal.provider)}`} onClose={() => setModal(undefined)}>
          <p class="hint">{label(modal.provider)} needs to know which account to connect.</p>
          <SchemaForm
            id="connection-fields-form"
            schema={modal.schema}
            submitLabel="Continue"
            onCancel={() => setModal(undefined)}
            onSubmit={async (fields) => {
              try {
                await begin(modal.provider, fields);
              } catch (err) {
                return formErrorsOf(err);
              }
            }}
          />
        </Dialog>
      )}

      {modal?.type === 'credentials' && (
        <Dialog title={`Connect ${label(modal.provider)}`} onClose={() => abandon(modal.connectionId)}>
          <p class="hint">Your credentials are encrypted and stored by the service; {session.client.displayName} never sees them.</p>
          <SchemaForm
            id="credentials-form"
            schema={modal.form.schema}
            submitLabel="Connect"
            onCancel={() => abandon(modal.connectionId)}
            onSubmit={async (credentials) => {
              const r = await submitCapture(api, modal.state, credentials);
              if ('errors' in r) return r.errors;
              setModal(undefined);
              if ('problem' in r) setNotice({ kind: 'error', text: `Could not connect ${label(modal.provider)}: ${r.problem.title}.` });
              else setNotice({ kind: 'success', text: `Connected ${label(modal.provider)}.` });
              await reload();
            }}
          />
        </Dialog>
      )}

      {modal?.type === 'fields' && (
        <Dialog title={`Finish connecting ${nameOf(modal.connection)}`} onClose={() => setModal(undefined)}>
          <SchemaForm
            id="fields-form"
            schema={modal.schema}
            submitLabel="Finish"
            onCancel={() => setModal(undefined)}
            onSubmit={async (fields) => {
              try {
                await api.connections.finalizeConnection({ connectionId: modal.connection.id, fields });
              } catch (err) {
                return formErrorsOf(err);
              }
              setModal(undefined);
              setNotice({ kind: 'success', text: `Connected ${nameOf(modal.connection)}.` });
              await reload();
            }}
          />
        </Dialog>
      )}

      {modal?.type === 'disconnect' && (
        <Dialog title={`Disconnect ${nameOf(modal.connection)}?`} onClose={() => setModal(undefined)} initialFocus="cancel-disconnect">
          <p>Apps and agents using this connection will stop working until you connect {nameOf(modal.connection)} again. Stored credentials are erased.</p>
          <div class="actions">
            <button type="button" class="button secondary" id="cancel-disconnect" onClick={() => setModal(undefined)}>
              Cancel
            </button>
            <button type="button" class="button danger" id="confirm-disconnect" onClick={() => void disconnect(modal.connection)}>
              Disconnect
            </button>
          </div>
        </Dialog>
      )}
    </>
  );
}
