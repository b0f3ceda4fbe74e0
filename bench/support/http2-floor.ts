/**
 * The floor under the streams benchmark: a bare node:http2 server (its own
 * process, no Connect, no Nexus) holding the same number of streams over the
 * same number of sessions writes one 200-byte frame to each, and a bare
 * client counts arrivals. What HTTP/2 in Node costs on this machine for one
 * fan-out; everything above it is the RPC stack and Nexus.
 */
import { fork } from 'node:child_process';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';

const FRAME = Buffer.alloc(200, 1);

/** Milliseconds from "write to every stream" to the last frame received, per round, sorted. */
export async function bareHttp2FanOut(streams: number, sessions: number, rounds: number): Promise<number[]> {
  const child = fork(import.meta.filename, ['serve'], { execArgv: ['--import', 'tsx'] });
  try {
    const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
    const clients = Array.from({ length: sessions }, () => http2.connect(`http://127.0.0.1:${port}`));
    let received = 0;
    let allReceived: (() => void) | undefined;
    await new Promise<void>((ready) => {
      let open = 0;
      for (let i = 0; i < streams; i++) {
        const stream = clients[i % sessions]!.request({ ':method': 'POST', ':path': '/fan-out' });
        stream.end();
        let first = true;
        stream.on('data', () => {
          if (first) {
            first = false; // the server's hello: the stream is open
            if (++open === streams) ready();
          } else if (++received === streams) allReceived?.();
        });
      }
    });
    const latencies: number[] = [];
    for (let round = 0; round < rounds; round++) {
      received = 0;
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        allReceived = resolve;
        child.send('write');
      });
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const c of clients) c.destroy();
    return latencies.sort((a, b) => a - b);
  } finally {
    child.kill();
  }
}

if (process.argv[2] === 'serve') {
  const open = new Set<http2.ServerHttp2Stream>();
  const server = http2.createServer();
  server.on('stream', (stream: http2.ServerHttp2Stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    open.add(stream);
    stream.on('close', () => open.delete(stream));
    stream.on('error', () => undefined);
    stream.write(Buffer.alloc(5));
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
  process.on('message', () => {
    for (const stream of open) stream.write(FRAME);
  });
  process.on('disconnect', () => process.exit(0));
}
