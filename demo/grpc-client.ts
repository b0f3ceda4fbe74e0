/**
 * An agent's side of Nexus, over gRPC (HTTP/2 cleartext):
 *
 *   NEXUS_API_KEY=... npx tsx demo/grpc-client.ts <connection_id>
 *
 * Asks TokenService.GetToken for the connection's credentials and prints
 * how to apply them. NEXUS_URL defaults to http://localhost:8080.
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { ErrorInfoSchema } from '../gen/ts/google/rpc/error_details_pb.js';
import { StrategyType, TokenService } from '../gen/ts/nexus/v1/token_pb.js';

const connectionId = process.argv[2];
if (!connectionId) {
  console.error('usage: npx tsx demo/grpc-client.ts <connection_id>   (with NEXUS_API_KEY set)');
  process.exit(2);
}

const transport = createGrpcTransport({
  baseUrl: process.env.NEXUS_URL ?? 'http://localhost:8080',
  interceptors: [
    (next) => (req) => {
      req.header.set('authorization', `Bearer ${process.env.NEXUS_API_KEY ?? ''}`);
      return next(req);
    },
  ],
});
const tokens = createClient(TokenService, transport);

try {
  const res = (await tokens.getToken({ connectionId })).credential!;
  const type = StrategyType[res.strategy?.type ?? StrategyType.UNSPECIFIED];
  const expires = res.expireTime ? `expires ${new Date(Number(res.expireTime.seconds) * 1000).toISOString()}` : 'static, does not expire';
  switch (res.credentials.case) {
    case 'oauth2':
      console.log(`${type}: Authorization: Bearer ${res.credentials.value.accessToken.slice(0, 12)}… (${expires})`);
      break;
    case 'apiKey': {
      const where = res.strategy?.apiKey;
      console.log(`${type}: ${where?.name}: ${where?.prefix ?? ''}${res.credentials.value.apiKey.slice(0, 4)}… (${expires})`);
      break;
    }
    default:
      console.log(`${type}: ${res.credentials.case} credentials (${expires})`);
  }
} catch (err) {
  const e = ConnectError.from(err);
  // Every Nexus error carries a google.rpc.ErrorInfo whose reason is an ERROR_REASON_* name.
  const reason = e.findDetails(ErrorInfoSchema)[0]?.reason ?? 'no ErrorInfo';
  console.error(`${Code[e.code]} ${reason}: ${e.rawMessage}`);
  process.exit(1);
}
