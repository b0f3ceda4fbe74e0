import type { FastifyInstance } from 'fastify';
import type { SigningKeys } from '../domain/auth/signing-keys.js';

/** The public keys of user access tokens (RFC 7517 JWK Set), for resource servers that verify them. */
export function registerJwksRoute(app: FastifyInstance, keys: SigningKeys): void {
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    // Short cache: a rotation shows up within minutes; retired keys stay listed for a day.
    return reply.header('cache-control', 'public, max-age=300').send(await keys.jwks());
  });
}
