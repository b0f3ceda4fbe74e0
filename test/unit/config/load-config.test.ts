import { describe, expect, it } from 'vitest';
import { ConfigError, loadLoadConfig } from '../../../src/config/config.js';

describe('connection, stream and load limits (NEXUS_*)', () => {
  it('has bounded defaults', () => {
    expect(loadLoadConfig({})).toMatchObject({
      maxConnections: 1_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      idleTimeoutMs: 70_000,
      h2MaxConcurrentStreams: 100,
      maxInflightPerConnection: 16,
      maxStreamsPerPrincipal: 1_000,
      streamsAdminReserve: 100,
    });
  });

  it('reads each setting, and refuses values out of range', () => {
    expect(loadLoadConfig({ NEXUS_H2_MAX_CONCURRENT_STREAMS: '250', NEXUS_UNAUTH_BURST: '5' })).toMatchObject({ h2MaxConcurrentStreams: 250, unauthBurst: 5 });
    expect(() => loadLoadConfig({ NEXUS_MAX_CONNECTIONS: '0' })).toThrow(ConfigError);
    expect(() => loadLoadConfig({ NEXUS_H2_MAX_CONCURRENT_STREAMS: 'lots' })).toThrow(/NEXUS_H2_MAX_CONCURRENT_STREAMS/);
  });

  it('refuses an idle timeout a healthy stream could trip (at most twice the heartbeat)', () => {
    expect(() => loadLoadConfig({ NEXUS_IDLE_TIMEOUT_MS: '30000' })).toThrow(/NEXUS_IDLE_TIMEOUT_MS .* NEXUS_STREAM_HEARTBEAT_MS/);
    expect(loadLoadConfig({ NEXUS_IDLE_TIMEOUT_MS: '30000', NEXUS_STREAM_HEARTBEAT_MS: '10000' }).idleTimeoutMs).toBe(30_000);
  });

  it('refuses a request timeout shorter than the headers timeout, and an admin reserve as large as the stream cap', () => {
    expect(() => loadLoadConfig({ NEXUS_HEADERS_TIMEOUT_MS: '20000', NEXUS_REQUEST_TIMEOUT_MS: '10000' })).toThrow(/NEXUS_REQUEST_TIMEOUT_MS/);
    expect(() => loadLoadConfig({ NEXUS_MAX_STREAMS: '50', NEXUS_STREAMS_ADMIN_RESERVE: '50' })).toThrow(/NEXUS_STREAMS_ADMIN_RESERVE/);
    expect(loadLoadConfig({ NEXUS_MAX_STREAMS: '50' }).streamsAdminReserve).toBe(49);
  });
});
