import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGliteWire } from '../../src/storage/pglite-wire.js';

// The embedded database's only way in: node-postgres speaking the wire protocol to PGlite in-process.
describe('PGliteWire', () => {
  let db: PGlite;
  const connect = async () => {
    const client = new pg.Client({ user: 'postgres', database: 'postgres', stream: () => new PGliteWire(db) });
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    db = await PGlite.create();
    await db.exec('CREATE TABLE t (x int)');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('runs simple and extended queries, and recovers from an error', async () => {
    const client = await connect();
    try {
      expect((await client.query('SELECT $1::int + 1 AS n', [41])).rows).toEqual([{ n: 42 }]);
      await expect(client.query('SELECT nope')).rejects.toThrow(/column "nope" does not exist/);
      expect((await client.query("SELECT 'still here' AS s")).rows).toEqual([{ s: 'still here' }]);
    } finally {
      await client.end();
    }
  });

  it("delivers a session's notifications to it", async () => {
    const client = await connect();
    try {
      const heard = new Promise<string | undefined>((resolve) => client.once('notification', (n) => resolve(n.payload)));
      await client.query('LISTEN ch');
      await client.query("SELECT pg_notify('ch', 'hello')");
      expect(await heard).toBe('hello');
    } finally {
      await client.end();
    }
  });

  it('rolls back a transaction left open by a session that went away', async () => {
    const client = await connect();
    client.on('error', () => {});
    await client.query('BEGIN');
    await client.query('INSERT INTO t VALUES (1)');
    expect(db.isInTransaction()).toBe(true);
    (client as unknown as { connection: { stream: PGliteWire } }).connection.stream.destroy();
    for (let i = 0; i < 100 && db.isInTransaction(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(db.isInTransaction()).toBe(false);
    const next = await connect();
    try {
      expect((await next.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }]);
    } finally {
      await next.end();
    }
  });

  it('ends cleanly: end() resolves and a new session starts', async () => {
    const client = await connect();
    await client.query('BEGIN');
    await client.end();
    expect(db.isInTransaction()).toBe(false);
    const next = await connect();
    expect((await next.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await next.end();
  });
});
