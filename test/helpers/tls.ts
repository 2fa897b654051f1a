/**
 * TLS material for tests, made with node crypto in the test (src/lab/tls-mint.ts): a CA, an
 * intermediate and a leaf for www.example.com and example.com, written beside an inventory
 * (the base active-passive fixture) whose site references them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { mintCertificate, type Minted, type MintOptions } from '../../src/lab/tls-mint.js';
import { fixturePath } from './inventory.js';

export const DAY = 86_400_000;
export const NOW = new Date('2026-06-01T12:00:00Z');

export interface TlsFiles {
  dir: string;
  ca: Minted;
  intermediate: Minted;
  leaf: Minted;
  /** Writes a file in the directory and returns its name. */
  write(name: string, text: string): string;
  /** A leaf issued by the intermediate, valid 90 days around NOW unless said otherwise. */
  mint(o: Partial<MintOptions>): Minted;
  /** Writes inventory.yaml whose first site has this tls: section; returns its path. */
  inventory(tls: Record<string, unknown>, change?: (doc: ReturnType<typeof parseDocument>) => void): string;
  remove(): void;
}

export function tlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-tls-'));
  const validity = { notBefore: new Date(NOW.getTime() - 30 * DAY), notAfter: new Date(NOW.getTime() + 60 * DAY) };
  const ca = mintCertificate({
    commonName: 'Test Root CA',
    ca: true,
    notBefore: validity.notBefore,
    notAfter: new Date(NOW.getTime() + 3650 * DAY),
  });
  const intermediate = mintCertificate({
    commonName: 'Test Intermediate CA',
    ca: true,
    issuer: { certPem: ca.certPem, key: ca.key },
    notBefore: validity.notBefore,
    notAfter: new Date(NOW.getTime() + 1825 * DAY),
  });
  const mint = (o: Partial<MintOptions>) =>
    mintCertificate({
      commonName: 'www.example.com',
      sans: ['www.example.com', 'example.com'],
      issuer: { certPem: intermediate.certPem, key: intermediate.key },
      ...validity,
      ...o,
    });
  const leaf = mint({});
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return name;
  };
  write('www.pem', leaf.certPem + intermediate.certPem);
  write('www.key', leaf.keyPem);
  write('ca.pem', ca.certPem);
  return {
    dir,
    ca,
    intermediate,
    leaf,
    write,
    mint,
    inventory(tls, change) {
      const doc = parseDocument(readFileSync(fixturePath('active-passive.yaml'), 'utf8'));
      doc.setIn(['clusters', 0, 'sites', 0, 'tls'], doc.createNode(tls));
      change?.(doc);
      const path = join(dir, 'inventory.yaml');
      writeFileSync(path, doc.toString());
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
