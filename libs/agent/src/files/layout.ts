// The directory the agent keeps, in the layout of Kubernetes' AtomicWriter (what a Secret or a
// projected volume looks like inside a pod):
//
//   DIR/..2026_01_02_15_04_05.Ab12Cd/   one snapshot: cert.pem, key.pem (0600), ca.pem
//   DIR/..data -> ..2026_01_02_15_04_05.Ab12Cd
//   DIR/cert.pem -> ..data/cert.pem      (likewise key.pem, ca.pem)
//
// A snapshot is written completely (and fsynced) before one rename() swaps `..data` to it, so
// a reader that resolves `..data` once and reads the three files from there always gets one
// consistent triple. All links are relative, so the directory can be mounted anywhere.
export const CERT_FILE = 'cert.pem';
export const KEY_FILE = 'key.pem';
export const CA_FILE = 'ca.pem';
export const DATA_LINK = '..data';
export const DATA_LINK_TMP = '..data_tmp';
export const PUBLISHED_FILES = [CERT_FILE, KEY_FILE, CA_FILE] as const;

/** Snapshot directories: `..` + UTC timestamp + `.` + random suffix. */
export const SNAPSHOT_PATTERN = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.[A-Za-z0-9]+$/;

/** The PEM texts of one snapshot. `cert` holds the leaf followed by its intermediates. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export function snapshotPrefix(at: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `..${at.getUTCFullYear()}_${pad(at.getUTCMonth() + 1)}_${pad(at.getUTCDate())}_${pad(at.getUTCHours())}_${pad(at.getUTCMinutes())}_${pad(at.getUTCSeconds())}.`;
}
