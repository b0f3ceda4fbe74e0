import cors from '@fastify/cors';
import { cors as connectCors } from '@connectrpc/connect';
import type { FastifyInstance } from 'fastify';
import { UrlAllowList } from '../domain/shared/url-allow-list.js';

/**
 * Lets browsers on the listed origins call the API with Connect-Web or
 * gRPC-Web: the methods and headers Connect needs, and its response headers
 * exposed. Credentials are API keys in headers, never cookies, so no
 * `credentials` mode is enabled. An origin off the list gets no CORS headers
 * and the browser refuses the response.
 */
export async function registerCors(app: FastifyInstance, origins: string[] | { allows(origin: string): Promise<boolean> }): Promise<void> {
  const allowList = Array.isArray(origins) ? new UrlAllowList(origins) : undefined;
  await app.register(cors, {
    origin: (origin, callback) => {
      if (origin === undefined) return callback(null, false);
      if (allowList) return callback(null, allowList.allows(origin));
      if (!Array.isArray(origins)) {
        origins.allows(origin).then(
          (allowed) => callback(null, allowed),
          () => callback(null, false),
        );
      }
    },
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, 'Authorization', 'X-API-Key'],
    exposedHeaders: [...connectCors.exposedHeaders],
    maxAge: 7200,
  });
}
