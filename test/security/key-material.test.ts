// Attacks on key material through configuration and the key-ring file:
// - an operator pastes an example all-zero (or text) encryption key and runs in production;
// - NODE_ENV=Production silently meant development, with every production check off;
// - keys:rotate rewrote the key-ring file in place: a crash mid-write could leave
//   half a ring (or none), and every sealed secret with it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, isProduction, loadConfig } from '../../src/config/config.js';
import { writeSecretFile } from '../../src/config/secret-file.js';
import { KeyRing, weakKeyReason } from '../../src/crypto/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const b64 = (bytes: Buffer) => bytes.toString('base64');

const production = (keys: string, nodeEnv = 'production') => ({
  NODE_ENV: nodeEnv,
  NEXUS_ENCRYPTION_KEYS: keys,
  NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/',
  NEXUS_DATA_DIR: path.join(tmpdir(), 'nexus-never-created'),
});

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('encryption keys in production', () => {
  it('refuses an all-zero, a repetitive and a text primary key, naming the key id only', () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.alloc(32), /all zero bytes/],
      [Buffer.alloc(32, 0x41), /every byte is the same/],
      [Buffer.from('0123456789abcdef0123456789abcdef'.slice(0, 32).replace(/[a-f]/g, '0')), /distinct byte values/],
      [Buffer.from('The quick brown fox jumps over!!'), /printable text/],
    ];
    for (const [key, reason] of cases) {
      const err = configError(production(`k1:${b64(key)}`));
      expect(err.message).toMatch(/NEXUS_ENCRYPTION_KEYS: the primary key "k1" is not a random key/);
      expect(err.message).toMatch(reason);
      expect(err.message).toMatch(/openssl rand -base64 32/);
      expect(err.message).not.toContain(b64(key));
    }
  });

  it('accepts a random key, and a weak older key behind it (being rotated out); development is not refused', () => {
    const random = b64(randomBytes(32));
    expect(loadConfig(production(`k2:${random}`)).production).toBe(true);
    expect(loadConfig(production(`k2:${random},k1:${b64(Buffer.alloc(32))}`)).keyRing.ids).toEqual(['k2', 'k1']);
    expect(loadConfig({ ...production(`k1:${b64(Buffer.alloc(32))}`), NODE_ENV: 'development' }).production).toBe(false);
  });

  it('random keys pass the check (no false alarms over many draws)', () => {
    for (let i = 0; i < 2_000; i++) expect(weakKeyReason(randomBytes(32))).toBeUndefined();
  });

  it('NODE_ENV=Production (any case, stray spaces) is production: its checks apply', () => {
    for (const value of ['Production', 'PRODUCTION', ' production ']) {
      expect(isProduction(value)).toBe(true);
      expect(configError({ NODE_ENV: value, NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/' }).message).toMatch(/NEXUS_ENCRYPTION_KEYS is required/);
      expect(configError(production(`k1:${b64(Buffer.alloc(32))}`, value)).message).toMatch(/all zero bytes/);
    }
    for (const value of [undefined, '', 'development', 'test', 'productionx']) expect(isProduction(value)).toBe(false);
  });
});

describe('writing the key-ring file', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nexus-keyfile-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('writes a new 0600 file and renames it over the old one (the old inode is never rewritten)', () => {
    const dir = tempDir();
    const file = path.join(dir, 'encryption-keys');
    writeFileSync(file, 'old\n', { mode: 0o644 });
    // A second name for the old file: an in-place rewrite would change what it shows.
    linkSync(file, path.join(dir, 'old-ring'));
    writeSecretFile(file, 'new\n');
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(readFileSync(path.join(dir, 'old-ring'), 'utf8')).toBe('old\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['encryption-keys', 'old-ring']);
  });

  it("nexus keys:rotate replaces the data directory's key ring by rename", { timeout: 180_000 }, async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'encryption-keys');
    const ring = KeyRing.generate('dev1');
    writeFileSync(file, `${ring.toSpec()}\n`, { mode: 0o600 });
    linkSync(file, path.join(dataDir, 'old-ring'));
    const env: NodeJS.ProcessEnv = { ...process.env, NEXUS_DATA_DIR: dataDir, NEXUS_ADMIN_API_KEY: 'nxs_key_material_test_admin_key' };
    for (const name of ['DATABASE_URL', 'NEXUS_ENCRYPTION_KEYS', 'NODE_ENV']) delete env[name];
    const out = await run(process.execPath, [path.join(ROOT, 'bin/nexus.js'), 'keys:rotate'], { cwd: ROOT, env });
    expect(out.stdout).toMatch(/new primary key/);
    const rotated = KeyRing.parse(readFileSync(file, 'utf8').trim());
    expect(rotated.ids).toHaveLength(2);
    expect(rotated.ids[1]).toBe('dev1');
    expect(readFileSync(path.join(dataDir, 'old-ring'), 'utf8')).toBe(`${ring.toSpec()}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dataDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
