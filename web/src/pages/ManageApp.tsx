import { useEffect, useState } from 'preact/hooks';
import { transport } from '../api/client.js';
import { redeemHandoff } from '../api/handoff.js';
import { oauthErrorText } from '../api/manage.js';
import { clearSession, loadSession, saveSession, type WebSession } from '../api/session.js';
import { applyBranding } from '../branding.js';
import { Loading } from './CapturePage.js';
import { ManagePage, type Notice } from './ManagePage.js';
import { PROBLEMS, ProblemPage, type Problem } from './ProblemPage.js';

type Phase =
  | { kind: 'loading' }
  | { kind: 'problem'; problem: Problem }
  | { kind: 'ready'; session: WebSession; notice?: Notice; pendingConnectionId?: string };

/** Query parameters this page consumes and removes from the address bar. */
const CONSUMED = ['code', 'status', 'connection_id', 'error'];

/**
 * /manage/: opened with `?code=<handoff code>` from the customer's app, or
 * coming back from a provider's consent screen with `?status=…` (the web
 * session is then already in sessionStorage).
 */
export function ManageApp() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  useEffect(() => {
    const url = new URL(location.href);
    const params = new URLSearchParams(url.search);
    // The code is single-use and the outcome is shown once: neither stays in the
    // address bar, the history or a Referer.
    for (const name of CONSUMED) url.searchParams.delete(name);
    history.replaceState(null, '', url.pathname + url.search + url.hash);

    void (async () => {
      const code = params.get('code');
      if (code) {
        clearSession();
        const redeemed = await redeemHandoff(transport(), code);
        if ('problem' in redeemed) return setPhase({ kind: 'problem', problem: redeemed.problem });
        saveSession(redeemed.session);
      }
      const session = loadSession();
      if (!session) {
        return setPhase({ kind: 'problem', problem: params.has('status') ? PROBLEMS.sessionEnded : PROBLEMS.missingCode });
      }
      applyBranding(session.client);
      const status = params.get('status');
      const notice: Notice | undefined =
        status === 'success'
          ? { kind: 'success', text: 'Connected. The service is now available to your app.' }
          : status === 'error'
            ? { kind: 'error', text: `The connection failed: ${oauthErrorText(params.get('error') ?? '')}. You can try again.` }
            : undefined;
      const pendingConnectionId = status === 'pending' ? (params.get('connection_id') ?? undefined) : undefined;
      setPhase({ kind: 'ready', session, notice, pendingConnectionId });
    })();
  }, []);

  if (phase.kind === 'loading') return <Loading />;
  if (phase.kind === 'problem') return <ProblemPage problem={phase.problem} />;
  return (
    <ManagePage
      session={phase.session}
      notice={phase.notice}
      pendingConnectionId={phase.pendingConnectionId}
      onSessionLost={() => {
        clearSession();
        setPhase({
          kind: 'problem',
          problem: { ...PROBLEMS.sessionEnded, returnTo: phase.session.redirectUri, returnLabel: `Back to ${phase.session.client.displayName}` },
        });
      }}
    />
  );
}
