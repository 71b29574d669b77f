import { exportJWK, generateKeyPair } from 'jose'

/** A new Ed25519 signing key: the private JWK for the origin and the JWKS for the edge. */
export async function generateSigningKey(
  kid: string,
): Promise<{ privateJwk: string; jwks: string }> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', {
    crv: 'Ed25519',
    extractable: true,
  })
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA', use: 'sig' }
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }
  return { privateJwk: JSON.stringify(privateJwk), jwks: JSON.stringify({ keys: [publicJwk] }) }
}
