// Makes the interop fixtures vc-im's tests verify: credentials and a presentation signed by
// did-jwt-vc (VC Data Model 1.1 JWTs) and by @transmute/verifiable-credentials (a VC Data
// Model 2.0 credential secured as a vc+jwt). Keys are fresh each run; only their public parts
// are kept, as did:jwk issuers (vc-im resolves them offline) and a verification method file.
//
//   cd interop && npm ci && node make-fixtures.mjs ../tests/vectors/interop
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ES256KSigner, EdDSASigner } from 'did-jwt';
import { createVerifiableCredentialJwt, createVerifiablePresentationJwt, verifyCredential,
  verifyPresentation } from 'did-jwt-vc';
import * as transmute from '@transmute/verifiable-credentials';
import { CompactSign, importJWK } from 'jose';
import { didJwk, didJwkResolver } from './did-jwk.mjs';

const out = process.argv[2];
if (!out) throw new Error('usage: node make-fixtures.mjs OUTPUT_DIRECTORY');
mkdirSync(out, { recursive: true });
const b64 = (text) => Buffer.from(text, 'base64url');
const NOW = 1767225600; // 2026-01-01T00:00:00Z: fixed, so the fixtures say when they were made

function keyPair(type, options) {
  const { privateKey } = generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  const { d, ...publicJwk } = jwk;
  return { d, publicJwk };
}

// did-jwt-vc, ES256K (its default algorithm) and EdDSA, issuers named by did:jwk.
const k1 = keyPair('ec', { namedCurve: 'secp256k1' });
const ed = keyPair('ed25519');
const issuers = [
  { name: 'es256k', alg: 'ES256K', jwk: k1.publicJwk, signer: ES256KSigner(b64(k1.d)) },
  { name: 'eddsa', alg: 'EdDSA', jwk: ed.publicJwk,
    signer: EdDSASigner(Buffer.concat([b64(ed.d), b64(ed.publicJwk.x)])) },
];
const holderKey = keyPair('ed25519');
const holder = { did: didJwk(holderKey.publicJwk), alg: 'EdDSA',
  signer: EdDSASigner(Buffer.concat([b64(holderKey.d), b64(holderKey.publicJwk.x)])) };
const made = {};
for (const { name, alg, jwk, signer } of issuers) {
  const issuer = { did: didJwk(jwk), signer, alg };
  const payload = {
    sub: holder.did,
    nbf: NOW,
    exp: NOW + 10 * 365 * 86400,
    jti: `urn:uuid:00000000-0000-4000-8000-00000000000${name === 'es256k' ? 1 : 2}`,
    vc: {
      '@context': ['https://www.w3.org/2018/credentials/v1',
        'https://www.w3.org/2018/credentials/examples/v1'],
      type: ['VerifiableCredential', 'UniversityDegreeCredential'],
      credentialSubject: { degree: { type: 'BachelorDegree', name: 'Bachelor of Arts' } },
    },
  };
  const jwt = await createVerifiableCredentialJwt(payload, issuer);
  await verifyCredential(jwt, didJwkResolver); // did-jwt-vc accepts what it made
  made[name] = jwt;
  writeFileSync(join(out, `did-jwt-vc-${name}.jwt`), jwt);
}
const vp = await createVerifiablePresentationJwt({
  vp: { '@context': ['https://www.w3.org/2018/credentials/v1'],
    type: ['VerifiablePresentation'], verifiableCredential: [made.es256k] },
  aud: 'did:example:verifier', nonce: 'aG9sZGVyLW5vbmNlLTAwMQ', nbf: NOW,
}, holder);
await verifyPresentation(vp, didJwkResolver, { audience: 'did:example:verifier' });
writeFileSync(join(out, 'did-jwt-vc-presentation.jwt'), vp);

// @transmute/verifiable-credentials: a VC 2.0 credential as a vc+jwt. Version 0.3.3 predates
// the final media type names, so the signer writes the protected header it asks for itself.
const privateKey = JSON.parse(new TextDecoder().decode(
  await transmute.key.generate({ alg: 'ES256', type: 'application/jwk+json' })));
const method = {
  id: 'did:example:transmute-issuer#key-1',
  type: 'JsonWebKey',
  controller: 'did:example:transmute-issuer',
  publicKeyJwk: { kty: privateKey.kty, crv: privateKey.crv, x: privateKey.x, y: privateKey.y,
    alg: 'ES256', kid: privateKey.kid },
};
const signer = {
  sign: async (bytes) => {
    const jws = await new CompactSign(bytes)
      .setProtectedHeader({ alg: 'ES256', typ: 'vc+jwt', cty: 'vc', kid: method.id })
      .sign(await importJWK(privateKey, 'ES256'));
    return new TextEncoder().encode(jws);
  },
};
const issued = await transmute.issuer({ alg: 'ES256', type: 'application/vc-ld+jwt',
  signer }).issue({
  claimset: new TextEncoder().encode(`
"@context":
  - https://www.w3.org/ns/credentials/v2
  - https://www.w3.org/ns/credentials/examples/v2
id: https://university.example/credentials/3732
type:
  - VerifiableCredential
  - ExampleDegreeCredential
issuer:
  id: did:example:transmute-issuer
  name: Example University
validFrom: "2026-01-01T00:00:00Z"
credentialSubject:
  id: did:example:ebfeb1f712ebc6f1c276e12ec21
  degree:
    type: ExampleBachelorDegree
    subtype: Bachelor of Science and Arts
`),
});
writeFileSync(join(out, 'transmute-vc.jwt'), new TextDecoder().decode(issued));
writeFileSync(join(out, 'transmute-method.json'), `${JSON.stringify(method, null, 2)}\n`);
console.log(`fixtures written to ${out}`);
