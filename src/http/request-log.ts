import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * One log line per request, written when it completes, instead of fastify's
 * two ("incoming request", then "request completed"): the line carries the
 * request (method, redacted URL, user agent), the status and the duration.
 * Pino serializes a line in a few microseconds, which on GetToken's cached
 * path is a visible share of the whole call. Fastify's other lines (errors,
 * 404s) are unchanged.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, statusCode: reply.statusCode, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
