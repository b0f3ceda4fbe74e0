import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadLoadConfig, loadRefreshConfig } from '../../../src/config/config.js';
import { REFERENCE_PAGE, renderReferencePage } from '../../../src/config/reference-page.js';
import { defaultOf, SETTINGS, type SettingName, settingsReader } from '../../../src/config/settings.js';

const root = path.resolve(import.meta.dirname, '../../..');
const names = Object.keys(SETTINGS) as SettingName[];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const file = path.join(dir, entry);
    return statSync(file).isDirectory() ? sources(file) : file.endsWith('.ts') ? [file] : [];
  });
}

describe('the settings table', () => {
  it('is what docs/configuration.md shows (run `npm run docs:config` when this fails)', () => {
    const page = readFileSync(path.join(root, REFERENCE_PAGE), 'utf8');
    expect(renderReferencePage(page)).toBe(page);
  });

  it('lists every NEXUS_* variable the server names', () => {
    const named = new Set(sources(path.join(root, 'src')).flatMap((file) => readFileSync(file, 'utf8').match(/\bNEXUS_[A-Z0-9_]*[A-Z0-9]\b/g) ?? []));
    named.delete('NEXUS_REFRESH'); // a prefix in a comment
    expect([...named].filter((name) => !(name in SETTINGS))).toEqual([]);
  });

  it.each(names)('%s: its default parses and is documented', (name) => {
    const setting = SETTINGS[name];
    expect(setting.doc.length).toBeGreaterThan(10);
    expect(setting.shown).not.toBe('');
    expect(() => defaultOf(name)).not.toThrow();
  });

  it('derives the loader defaults from the table', () => {
    const load = loadLoadConfig({});
    expect(load.maxConnections).toBe(Number(SETTINGS.NEXUS_MAX_CONNECTIONS.default));
    expect(load.streamsAdminReserve).toBe(100);
    expect(loadRefreshConfig({}, 10_000)).toMatchObject({ worker: true, leaseMs: 35_000, backoffBaseMs: 5_000, backoffMaxMs: 300_000 });
    expect(loadRefreshConfig({}, 2_000).leaseMs).toBe(19_000);
    expect(defaultOf('NEXUS_SESSION_TTL_SECONDS')).toBe(30 * 86_400);
    expect(defaultOf('NEXUS_HANDOFF_IP_BINDING')).toBe('strict');
    expect(defaultOf('DATABASE_URL')).toBeUndefined();
  });

  it('computes defaults that depend on other settings', () => {
    const get = settingsReader({ PORT: '9000', NODE_ENV: 'Production' });
    expect(get('BASE_URL')).toBe('http://localhost:9000');
    expect(get('NEXUS_CORS_ORIGINS')).toEqual([]);
    expect(settingsReader({})('NEXUS_CORS_ORIGINS')).toEqual(['http://localhost:*', 'http://127.0.0.1:*']);
  });

  it('treats an empty value as unset, except for a list', () => {
    const get = settingsReader({ PORT: '', NEXUS_DB_POOL_SIZE: '', NEXUS_CORS_ORIGINS: '', NEXUS_REFRESH_WORKER: '' });
    expect(get('PORT')).toBe(8080);
    expect(get('NEXUS_DB_POOL_SIZE')).toBe(10);
    expect(get('NEXUS_REFRESH_WORKER')).toBe(true);
    expect(get('NEXUS_CORS_ORIGINS')).toEqual([]);
  });

  it('refuses bad values with a ConfigError naming the variable and its bounds', () => {
    expect(() => settingsReader({ NEXUS_DB_POOL_SIZE: '0' })('NEXUS_DB_POOL_SIZE')).toThrow(
      new ConfigError('NEXUS_DB_POOL_SIZE "0" must be a whole number from 1 to 1000'),
    );
    expect(() => settingsReader({ NEXUS_ACCESS_TOKEN_TTL_SECONDS: '10' })('NEXUS_ACCESS_TOKEN_TTL_SECONDS')).toThrow(
      /whole number of seconds from 30 to 86400/,
    );
    expect(() => settingsReader({ PORT: 'http' })('PORT')).toThrow(/PORT "http" is not a port/);
    expect(() => settingsReader({ NEXUS_HANDOFF_IP_BINDING: 'loose' })('NEXUS_HANDOFF_IP_BINDING')).toThrow(/must be strict or relaxed/);
    expect(() => settingsReader({ NEXUS_REFRESH_WORKER: 'yes' })('NEXUS_REFRESH_WORKER')).toThrow(/must be true or false/);
    expect(() => settingsReader({ BASE_URL: 'ftp://x' })('BASE_URL')).toThrow(/BASE_URL must be an absolute http\(s\) URL/);
    expect(() => settingsReader({ NEXUS_OUTBOUND_ALLOWED_HOSTS: 'no-port' })('NEXUS_OUTBOUND_ALLOWED_HOSTS')).toThrow(ConfigError);
  });

  it('keeps the bounds that depend on other settings', () => {
    expect(() => loadRefreshConfig({ NEXUS_REFRESH_LEASE_MS: '5000' }, 10_000)).toThrow(
      /NEXUS_REFRESH_LEASE_MS "5000" must be a whole number from 21000 to 3600000/,
    );
    expect(() => loadRefreshConfig({ NEXUS_REFRESH_BACKOFF_BASE_MS: '1000', NEXUS_REFRESH_BACKOFF_MAX_MS: '500' }, 10_000)).toThrow(
      /NEXUS_REFRESH_BACKOFF_MAX_MS/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production', NEXUS_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}` })).toThrow(
      /NEXUS_ALLOWED_RETURN_URLS is required/,
    );
  });
});
