// did:jwk (https://github.com/quartzjer/did-jwk): a DID that is its public JWK, resolved
// offline, so that neither side of the interop checks needs a network resolver.
export const didJwk = (jwk) => `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`;

export const didJwkResolver = {
  async resolve(didUrl) {
    const did = didUrl.split('#')[0];
    if (!did.startsWith('did:jwk:')) {
      return { didResolutionMetadata: { error: 'unsupportedDidMethod' }, didDocument: null,
        didDocumentMetadata: {} };
    }
    const publicKeyJwk = JSON.parse(Buffer.from(did.slice(8), 'base64url').toString('utf8'));
    const id = `${did}#0`;
    return {
      didResolutionMetadata: { contentType: 'application/did+ld+json' },
      didDocument: { "@context": ["https://www.w3.org/ns/did/v1"], id: did,
        verificationMethod: [{ id, type: 'JsonWebKey2020', controller: did, publicKeyJwk }],
        assertionMethod: [id], authentication: [id] },
      didDocumentMetadata: {},
    };
  },
};
