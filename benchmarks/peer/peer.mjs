// The benchmark's peer: did-jwt-vc verifying the very presentations vc-im verifies, and
// creating credentials, so that bench_scale.py can print vc-im's figures as ratios to it.
//
//   node peer.mjs verify TRUST.json AUDIENCE LINES.jsonl [NOW]  -> {"count", "valid", "ms"}
//   node peer.mjs create COUNT                            -> {"count", "ms"}
//
// Each presentation line is {"token", "nonce"}; every embedded credential is verified too
// (did-jwt-vc's verifyPresentation checks the presentation's own JWT only), its issuer key
// taken from the trust file and the holder's key from the credential's cnf.jwk, as vc-im does.
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { webcrypto } from 'node:crypto'
import { decodeJWT, EdDSASigner } from 'did-jwt'
import { createVerifiableCredentialJwt, verifyCredential, verifyPresentation } from 'did-jwt-vc'

function authenticatorFor (jwk) {
  // did-jwt wants a DID document; the keys here are vc-im's trust file's and cnf.jwk's, handed
  // over as one (a DID stands in for the https:// and im: issuers, which did-jwt cannot parse).
  const id = 'did:web:peer.example'
  const vm = { id: `${id}#key`, type: 'JsonWebKey2020', controller: id, publicKeyJwk: jwk }
  const didResolutionResult = { didResolutionMetadata: {}, didDocumentMetadata: {},
    didDocument: { id, verificationMethod: [vm], assertionMethod: [vm.id], authentication: [vm.id] } }
  return { issuer: id, authenticators: [vm], didResolutionResult }
}

async function verify (trustPath, audience, linesPath, at) {
  const policies = at ? { now: Number(at) } : {}
  const trust = JSON.parse(readFileSync(trustPath, 'utf8'))
  const issuers = new Map(trust.issuers.map((issuer) => [issuer.id, authenticatorFor(issuer.keys[0])]))
  const resolver = { resolve: async () => { throw new Error('nothing is resolved') } }
  const lines = readFileSync(linesPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  let valid = 0
  const start = performance.now()
  for (const { token, nonce } of lines) {
    try {
      const vp = decodeJWT(token).payload
      let holder = null
      for (const credential of vp.vp.verifiableCredential) {
        const issuer = decodeJWT(credential).payload.iss
        const vc = await verifyCredential(credential, resolver, { didAuthenticator: issuers.get(issuer), policies })
        holder = authenticatorFor(vc.payload.cnf.jwk)
      }
      await verifyPresentation(token, resolver, { audience, domain: audience, challenge: nonce,
                                                  didAuthenticator: holder, policies })
      valid += 1
    } catch (error) {
      if (process.env.PEER_DEBUG) console.error(error)
    }
  }
  const ms = performance.now() - start
  console.log(JSON.stringify({ count: lines.length, valid, ms }))
}

async function create (count) {
  const pair = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign'])
  const jwk = await webcrypto.subtle.exportKey('jwk', pair.privateKey)
  const secret = Buffer.from(jwk.d, 'base64url')
  const issuer = { did: 'https://im.example.com', signer: EdDSASigner(secret), alg: 'EdDSA' }
  const now = Math.floor(Date.now() / 1000)
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    await createVerifiableCredentialJwt({
      sub: `im:SvPfLlwBQi-6oddVRrkqpw/${i}@example.com`, nbf: now, exp: now + 7776000,
      jti: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      vc: { '@context': ['https://www.w3.org/2018/credentials/v1', 'https://vc-im.example/contexts/v1'],
            type: ['VerifiableCredential', 'ImDeviceCredential'],
            credentialSubject: { fn: 'Alice M. Smith', hasInstantMessage: [`im:SvPfLlwBQi-6oddVRrkqpw/${i}@example.com`] } }
    }, issuer)
  }
  console.log(JSON.stringify({ count, ms: performance.now() - start }))
}

const [mode, ...args] = process.argv.slice(2)
if (mode === 'verify') await verify(...args)
else if (mode === 'create') await create(Number(args[0]))
else { console.error('usage: node peer.mjs verify TRUST AUDIENCE LINES | create COUNT'); process.exit(2) }
