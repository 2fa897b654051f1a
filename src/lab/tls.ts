/**
 * `hactl lab up --tls`: the lab's own CA and a certificate for its server name, made with node
 * crypto (tls-mint.ts), written into the lab's directory beside the inventory that references
 * them. The CA's key is kept there too (0600), so a rehearsal can issue a renewed certificate.
 */
import { mkdir, unlink, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mintCertificate } from './tls-mint.js';

export interface LabTlsFiles {
  ca: string;
  caKey: string;
  certificate: string;
  key: string;
}

/** Where the files go, and how the inventory (in the same directory) names them. */
export const LAB_TLS = { ca: 'ca.pem', caKey: 'ca.key', certificate: 'tls/www.pem', key: 'tls/www.key' } as const;

export function labTlsFiles(outDir: string): LabTlsFiles {
  return {
    ca: join(outDir, LAB_TLS.ca),
    caKey: join(outDir, LAB_TLS.caKey),
    certificate: join(outDir, LAB_TLS.certificate),
    key: join(outDir, LAB_TLS.key),
  };
}

const DAY = 86_400_000;

export async function writeLabTls(outDir: string, serverNames: string[], labId: string): Promise<LabTlsFiles> {
  const files = labTlsFiles(outDir);
  const now = Date.now();
  const ca = mintCertificate({
    commonName: `hactl lab ${labId} CA`,
    ca: true,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * DAY),
  });
  const leaf = mintCertificate({
    commonName: serverNames[0],
    sans: serverNames,
    issuer: { certPem: ca.certPem, key: ca.key },
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 90 * DAY),
  });
  await mkdir(join(outDir, 'tls'), { recursive: true, mode: 0o700 });
  await writeFile(files.ca, ca.certPem, { mode: 0o644 });
  await writeFile(files.caKey, ca.keyPem, { mode: 0o600 });
  await writeFile(files.certificate, leaf.certPem, { mode: 0o644 });
  await writeFile(files.key, leaf.keyPem, { mode: 0o600 });
  return files;
}

export async function removeLabTls(files: LabTlsFiles): Promise<void> {
  await Promise.all(Object.values(files).map((f) => unlink(f).catch(() => undefined)));
  await rmdir(join(files.certificate, '..')).catch(() => undefined);
}
