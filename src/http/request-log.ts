import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { redactUrl } from './redact.js';

/**
 * One log line per request, written when it completes, instead of fastify's
 * two ("incoming request", then "request completed"): the line carries the
 * request (method, redacted URL, user agent), the status and the duration.
 * Pino serializes a line in a few microseconds, which on GetToken's cached
 * path is a visible share of the whole call. Fastify's "route not found"
 * line quoted the raw URL (a mistyped callback path with its state and
 * code): it carries the redacted one. Fastify's other lines are unchanged.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, statusCode: reply.statusCode, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }

  override routeNotFound(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.info(`Route ${request.raw.method}:${redactUrl(request.raw.url ?? '')} not found`);
  }
}
