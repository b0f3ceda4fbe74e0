import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import { newId, openJson, sealJson, type KeyRing } from '../../crypto/index.js';
import type { SigningKeyRow } from '../model/signing-key.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence, Tx } from '../ports/persistence.js';
import { signingKeyAad } from '../keys/sealed-secrets.js';
import { NexusError } from '../shared/errors.js';

export const JWT_ALGORITHM = 'ES256';
/** How often a replica re-reads the key table, so a rotation made elsewhere is picked up. */
const RELOAD_MS = 60_000;
/** Minimum spacing of re-reads caused by tokens whose kid we do not know. */
const UNKNOWN_KID_RELOAD_GAP_MS = 1_000;
/** A retired key keeps verifying (and stays in the JWKS) this long: longer than any access token lives. */
const RETIRED_KEY_GRACE_MS = 24 * 3600_000;

interface LoadedKey {
  row: SigningKeyRow;
  publicKey: CryptoKey;
  privateKey: CryptoKey | undefined;
}

export class TokenVerificationError extends NexusError {
  readonly kind = 'unauthenticated';
  readonly reason = 'UNAUTHENTICATED';
  constructor(readonly expired: boolean) {
    super(expired ? 'access token expired' : 'access token is not valid');
  }
}

/**
 * The JWT signing keys every replica shares: generated once (under an
 * advisory lock, so two replicas starting together make one key), stored
 * with the private half sealed by the key ring, signed with the newest
 * unretired key. rotate() adds a new key and retires the others; retired
 * keys keep verifying and stay in the JWKS for a day.
 */
export class SigningKeys {
  private keys: LoadedKey[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly store: Persistence,
    private readonly keyRing: KeyRing,
    private readonly issuer: string,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Makes sure a signing key exists (called at start-up). */
  async ensure(): Promise<void> {
    await this.store.transaction(async (tx) => {
      await this.store.signingKeys.lock(tx);
      const rows = await this.store.signingKeys.listAll(tx);
      if (!rows.some((r) => r.retiredAt === null)) await this.insertNew(tx);
    });
    await this.reload();
  }

  /** Adds a new signing key and retires the others (they keep verifying for a day). Returns the new key id. */
  async rotate(): Promise<string> {
    const id = await this.store.transaction(async (tx) => {
      await this.store.signingKeys.lock(tx);
      const kid = await this.insertNew(tx);
      await this.store.signingKeys.retireAllExcept(kid, new Date(this.clock()), tx);
      return kid;
    });
    await this.reload();
    return id;
  }

  async sign(claims: JWTPayload & Record<string, unknown>, ttlSeconds: number): Promise<string> {
    const key = (await this.current()).find((k) => k.row.retiredAt === null && k.privateKey);
    if (!key) throw new Error('no signing key: SigningKeys.ensure() was not called');
    const now = Math.floor(this.clock() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: JWT_ALGORITHM, kid: key.row.id, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(this.issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(key.privateKey!);
  }

  /** Verifies signature, issuer, audience and expiry; throws TokenVerificationError. */
  async verify(token: string): Promise<JWTPayload & Record<string, unknown>> {
    try {
      const { payload } = await jwtVerify(token, (header) => this.publicKeyFor(header.kid), {
        issuer: this.issuer,
        audience: this.issuer,
        algorithms: [JWT_ALGORITHM],
        typ: 'at+jwt',
        currentDate: new Date(this.clock()),
      });
      return payload as JWTPayload & Record<string, unknown>;
    } catch (err) {
      throw new TokenVerificationError(err instanceof joseErrors.JWTExpired);
    }
  }

  /** The public keys as a JWK Set (RFC 7517), for `GET /.well-known/jwks.json`. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.current()).map((k) => ({ ...(k.row.publicJwk as JWK), kid: k.row.id, alg: JWT_ALGORITHM, use: 'sig' })) };
  }

  private async publicKeyFor(kid: string | undefined): Promise<CryptoKey> {
    if (!kid) throw new Error('no kid');
    let key = (await this.current()).find((k) => k.row.id === kid);
    if (!key) {
      // Perhaps a key made by another replica since our last load: re-read. The kid is the
      // caller's to choose, so re-reads are spaced at least UNKNOWN_KID_RELOAD_GAP_MS apart
      // (a caller inside the gap waits for the next one) rather than refused: refusing made a
      // fresh key unusable for up to a second after a load.
      const wait = this.loadedAt + UNKNOWN_KID_RELOAD_GAP_MS - this.clock();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await this.reload();
      key = this.keys.find((k) => k.row.id === kid);
    }
    if (!key) throw new Error('unknown kid');
    return key.publicKey;
  }

  /**
   * The loaded keys; a stale set is refreshed in the background, never
   * awaited: sign() runs inside transactions, and on a one-connection pool
   * (embedded database) waiting there for another connection would deadlock.
   */
  private async current(): Promise<LoadedKey[]> {
    if (this.keys.length === 0) await this.reload();
    else if (this.clock() - this.loadedAt > RELOAD_MS) this.reload().catch(() => undefined);
    return this.keys;
  }

  private reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const cutoff = this.clock() - RETIRED_KEY_GRACE_MS;
    const rows = (await this.store.signingKeys.listAll()).filter((r) => r.retiredAt === null || r.retiredAt.getTime() > cutoff);
    this.keys = await Promise.all(
      rows.map(async (row) => ({
        row,
        publicKey: (await importJWK(row.publicJwk as JWK, JWT_ALGORITHM)) as CryptoKey,
        privateKey:
          row.retiredAt === null
            ? ((await importJWK(openJson<JWK>(this.keyRing, row.privateKeySealed, signingKeyAad(row.id)), JWT_ALGORITHM)) as CryptoKey)
            : undefined,
      })),
    );
    this.loadedAt = this.clock();
  }

  private async insertNew(tx: Tx): Promise<string> {
    const id = newId('sk');
    const { publicKey, privateKey } = await generateKeyPair(JWT_ALGORITHM, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const privateJwk = await exportJWK(privateKey);
    await this.store.signingKeys.insert(
      { id, algorithm: JWT_ALGORITHM, publicJwk: { ...publicJwk }, privateKeySealed: sealJson(this.keyRing, privateJwk, signingKeyAad(id)) },
      tx,
    );
    return id;
  }
}
