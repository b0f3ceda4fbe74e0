/**
 * The inventory of every secret Nexus seals at rest (AES-256-GCM under the
 * key ring, crypto/sealed-box.ts), with the associated data (AAD) that binds
 * each ciphertext to its row: a ciphertext copied to another row, or to
 * another column, does not open. Key rotation (key-rotation.ts) re-seals
 * each of them under the same AAD. A new sealed column gets its AAD here,
 * and a step in key-rotation.ts.
 *
 * | column                                           | AAD                                              |
 * | ------------------------------------------------ | ------------------------------------------------ |
 * | connections.credentials_sealed                   | connection:<connection id>:credentials           |
 * | auth_states.code_verifier_sealed (PKCE verifier) | auth_state:<state id>:code_verifier              |
 * | providers.client_secret_sealed                   | provider:<provider id>:client_secret             |
 * | oauth_client_registrations.client_secret_sealed  | oauth_client_registration:<id>:client_secret     |
 * | signing_keys.private_key_sealed                  | signing_key:<key id>                             |
 * | webhook_endpoints.secrets[].sealed               | webhook_endpoint:<endpoint id>:secret:<secret id> |
 *
 * (The PKCE verifier is short-lived and not re-sealed by rotation: a flow in
 * progress across a rotation opens it with the older key, which stays in the
 * ring until removed.)
 */

export function credentialsAad(connectionId: string): string {
  return `connection:${connectionId}:credentials`;
}

export function codeVerifierAad(stateId: string): string {
  return `auth_state:${stateId}:code_verifier`;
}

export function clientSecretAad(providerId: string): string {
  return `provider:${providerId}:client_secret`;
}

export function registrationSecretAad(id: string): string {
  return `oauth_client_registration:${id}:client_secret`;
}

export function signingKeyAad(id: string): string {
  return `signing_key:${id}`;
}

export function webhookSecretAad(endpointId: string, secretId: string): string {
  return `webhook_endpoint:${endpointId}:secret:${secretId}`;
}
