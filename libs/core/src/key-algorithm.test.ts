import { describe, expect, it } from 'vitest';
import { KEY_ALGORITHMS, isKeyAlgorithm, keyFamilyOf, leafKeyUsages, rsaModulusBits } from './key-algorithm.js';

describe('key algorithms', () => {
  it('knows each algorithm by family and size', () => {
    expect(KEY_ALGORITHMS.map((a) => [a, keyFamilyOf(a), rsaModulusBits(a)])).toEqual([
      ['ecdsa-p256', 'ec', undefined],
      ['rsa-2048', 'rsa', 2048],
      ['rsa-3072', 'rsa', 3072],
      ['rsa-4096', 'rsa', 4096],
    ]);
  });

  it('accepts only the listed names', () => {
    expect(isKeyAlgorithm('rsa-2048')).toBe(true);
    expect(isKeyAlgorithm('rsa-1024')).toBe(false);
    expect(isKeyAlgorithm(undefined)).toBe(false);
  });

  it('never gives an EC leaf keyEncipherment (RFC 5480), and gives RSA leaves key transport', () => {
    expect(leafKeyUsages('ec')).toEqual(['digitalSignature']);
    expect(leafKeyUsages('rsa')).toEqual(['digitalSignature', 'keyEncipherment']);
  });
});
