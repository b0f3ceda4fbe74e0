import { Code, createContextValues } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { Admission, connectionKey } from '../../../src/transport/admission.js';

/** Drives the admission interceptor with calls that finish when the test says so. */
function harness(limits: { maxInflight: number; maxInflightPerConnection: number; dbQueueMax: number }, dbWaiting = () => 0) {
  const admission = new Admission(limits, dbWaiting);
  const running: string[] = [];
  const finishers = new Map<string, () => void>();
  const handler = admission.interceptor()(async (req) => {
    const name = (req as unknown as { name: string }).name;
    running.push(name);
    await new Promise<void>((resolve) => finishers.set(name, resolve));
    running.splice(running.indexOf(name), 1);
    return {} as never;
  });
  const call = (name: string, connection: object, signal = new AbortController().signal) =>
    handler({
      name,
      method: { methodKind: 'unary' },
      contextValues: createContextValues().set(connectionKey, connection),
      signal,
    } as never);
  const finish = async (name: string) => {
    finishers.get(name)!();
    await new Promise((r) => setImmediate(r));
  };
  return { admission, running, call, finish };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('admission', () => {
  it('runs up to a connection limit of calls, queues the rest in order, and lets other connections through', async () => {
    const h = harness({ maxInflight: 100, maxInflightPerConnection: 2, dbQueueMax: 100 });
    const flood = {};
    const bystander = {};
    const calls = ['a1', 'a2', 'a3', 'a4'].map((n) => h.call(n, flood));
    void h.call('b1', bystander);
    await tick();
    expect(h.running.sort()).toEqual(['a1', 'a2', 'b1']);
    await h.finish('a1');
    expect(h.running.sort()).toEqual(['a2', 'a3', 'b1']);
    await h.finish('a2');
    await h.finish('a3');
    await h.finish('a4');
    await Promise.all(calls);
    expect(h.admission.inFlight).toBe(1);
  });

  it('a waiting call whose client gives up leaves the queue with CANCELED, and does not take a slot', async () => {
    const h = harness({ maxInflight: 100, maxInflightPerConnection: 1, dbQueueMax: 100 });
    const conn = {};
    void h.call('first', conn);
    const abort = new AbortController();
    const gone = h.call('gone', conn, abort.signal);
    void h.call('next', conn);
    await tick();
    abort.abort();
    await expect(gone).rejects.toMatchObject({ code: Code.Canceled });
    await h.finish('first');
    expect(h.running).toEqual(['next']);
  });

  it('sheds with UNAVAILABLE past the process limit or a full database queue', async () => {
    let waiting = 0;
    const h = harness({ maxInflight: 1, maxInflightPerConnection: 10, dbQueueMax: 5 }, () => waiting);
    void h.call('one', {});
    await tick();
    const refused = await h.call('two', {}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as { reason: string }).reason).toBe('OVERLOADED');
    await h.finish('one');
    waiting = 5;
    expect(((await h.call('three', {}).catch((e: unknown) => e)) as { reason: string }).reason).toBe('OVERLOADED');
    waiting = 0;
    void h.call('four', {});
    await tick();
    expect(h.running).toEqual(['four']);
  });
});
