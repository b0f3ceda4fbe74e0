import { Code, createClient, type Transport } from '@connectrpc/connect';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { AuthService } from '../../../gen/ts/nexus/v1/auth_pb.js';
import { PROBLEMS, type Problem } from '../pages/ProblemPage.js';
import { problemOf } from './errors.js';
import type { WebSession } from './session.js';

/**
 * Redeems the one-time handoff code from the page URL (AuthService.RedeemHandoff)
 * for a web session. Resolves with the session, or with the page to show when
 * the code cannot be used (expired, used, unknown, another device).
 */
export async function redeemHandoff(t: Transport, code: string): Promise<{ session: WebSession } | { problem: Problem }> {
  try {
    const res = await createClient(AuthService, t).redeemHandoff({ code });
    const branding = res.branding;
    return {
      session: {
        accessToken: res.accessToken,
        expiresAt: res.expireTime ? timestampMs(res.expireTime) : Date.now() + 10 * 60_000,
        redirectUri: res.redirectUri,
        workspaceId: res.account?.workspaceId ?? '',
        projectId: res.account?.projectId ?? '',
        client: {
          displayName: branding?.displayName || 'your app',
          logoUrl: branding?.logoUrl ?? '',
          accentColor: branding?.accentColor ?? '',
        },
      },
    };
  } catch (err) {
    const p = problemOf(err);
    switch (p.reason) {
      case 'HANDOFF_CODE_EXPIRED':
        return { problem: PROBLEMS.linkExpired };
      case 'HANDOFF_CODE_ALREADY_USED':
        return { problem: PROBLEMS.linkUsed };
      case 'SESSION_NOT_FOUND':
        return { problem: PROBLEMS.sessionEnded };
    }
    if (p.code === Code.Unavailable || p.code === Code.Internal || p.code === Code.Unknown) return { problem: PROBLEMS.unavailable };
    // Unknown code, IP mismatch, malformed: all "this link cannot be used here".
    return { problem: PROBLEMS.linkInvalid };
  }
}
