// Verifies tokens vc-im made with the implementations that made the fixtures: did-jwt-vc for
// VC Data Model 1.1 JWTs (issuer and holder named by did:jwk), @transmute/verifiable-credentials
// for vc+jwt credentials (the key from a verification method file). Prints one line per token
// and exits 1 if any fails.
//
//   node verify-vc-im.mjs DIRECTORY
// DIRECTORY holds vcdm11-credential.jwt, vcdm11-presentation.jwt (audience in audience.txt),
// and pairs NAME.vc-jwt + NAME.method.json.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyCredential, verifyPresentation } from 'did-jwt-vc';
import * as transmute from '@transmute/verifiable-credentials';
import { didJwkResolver } from './did-jwk.mjs';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node verify-vc-im.mjs DIRECTORY');
const read = (name) => readFileSync(join(dir, name), 'utf8').trim();
let failed = 0;

async function check(name, verify) {
  try {
    await verify();
    console.log(`ok ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`FAILED ${name}: ${error.message}`);
  }
}

await check('vcdm11-credential.jwt (did-jwt-vc)',
  () => verifyCredential(read('vcdm11-credential.jwt'), didJwkResolver));
await check('vcdm11-presentation.jwt (did-jwt-vc)',
  () => verifyPresentation(read('vcdm11-presentation.jwt'), didJwkResolver,
    { audience: read('audience.txt') }));
for (const file of readdirSync(dir).filter((name) => name.endsWith('.vc-jwt')).sort()) {
  const method = JSON.parse(read(file.replace(/\.vc-jwt$/, '.method.json')));
  const resolver = {
    resolve: async () => ({ type: 'application/jwk+json',
      content: new TextEncoder().encode(JSON.stringify(method.publicKeyJwk)) }),
  };
  await check(`${file} (@transmute/verifiable-credentials)`,
    () => transmute.verifier({ resolver }).verify({ type: 'application/vc-ld+jwt',
      content: new TextEncoder().encode(read(file)) }));
}
process.exit(failed ? 1 : 0);
