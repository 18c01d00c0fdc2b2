// Object identifiers we write or recognise, with the short names openssl prints.
export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;

/** Attribute types in names, keyed by OID, with openssl's short names. */
export const NAME_ATTRIBUTE_SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** Signature algorithms we accept on CSRs and chains: OID -> digest and openssl's name. */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, { readonly digest: string; readonly name: string }>> = {
  [OID.ecdsaWithSha256]: { digest: 'sha256', name: 'ecdsa-with-SHA256' },
  [OID.ecdsaWithSha384]: { digest: 'sha384', name: 'ecdsa-with-SHA384' },
  [OID.ecdsaWithSha512]: { digest: 'sha512', name: 'ecdsa-with-SHA512' },
  [OID.sha256WithRsa]: { digest: 'sha256', name: 'sha256WithRSAEncryption' },
  [OID.sha384WithRsa]: { digest: 'sha384', name: 'sha384WithRSAEncryption' },
  [OID.sha512WithRsa]: { digest: 'sha512', name: 'sha512WithRSAEncryption' },
};
