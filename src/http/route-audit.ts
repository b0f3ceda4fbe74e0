import type { FastifyRequest } from 'fastify';
import type { AuditEventInput, AuditLog } from '../domain/audit/types.js';

/** Records an event of an HTTP route (not an RPC): the browser's IP and the request id are added; the actor is the system (a browser holds no identity of ours). */
export type RouteAudit = (request: FastifyRequest, event: Omit<AuditEventInput, 'actor' | 'clientIp' | 'requestId'>) => void;

export function routeAudit(audit: AuditLog, clientIp: (request: FastifyRequest) => string): RouteAudit {
  return (request, event) =>
    audit.record({
      ...event,
      actor: { kind: 'system' },
      ...(clientIp(request) ? { clientIp: clientIp(request) } : {}),
      requestId: request.id,
    });
}
