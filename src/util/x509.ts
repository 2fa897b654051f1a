/**
 * Certificates as hactl reads and shows them, with node's own crypto.X509Certificate (no
 * OpenSSL shell-outs: the operator side must work on macOS). One place that says what a
 * certificate is (subject, names, dates, fingerprint), whether it covers a server name, and
 * what a key's fingerprint is. Nothing here ever returns a private key's text.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';

export interface CertSummary {
  subject: string;
  issuer: string;
  /** DNS names of the subjectAltName extension (lower case, wildcards as written). */
  sans: string[];
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER certificate, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM text, in file order (throws on one that does not parse). */
export function parseChain(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERT) ?? []).map((block) => new X509Certificate(block));
}

export const holdsPrivateKey = (pem: string) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem);

/** subjectAltName DNS entries; node prints them as "DNS:a, DNS:b, IP Address:…". */
export function dnsNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4).replace(/^"|"$/g, '').toLowerCase());
}

export const notAfter = (cert: X509Certificate) => new Date(cert.validTo);
export const notBefore = (cert: X509Certificate) => new Date(cert.validFrom);

/** One line per RDN in node's output; messages show them comma-separated. */
const oneLine = (dn: string) => dn.split('\n').filter(Boolean).join(', ');

export function summarize(cert: X509Certificate): CertSummary {
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    sans: dnsNames(cert),
    notBefore: notBefore(cert).toISOString(),
    notAfter: notAfter(cert).toISOString(),
    fingerprint256: cert.fingerprint256,
  };
}

const day = (iso: string) => iso.slice(0, 10);

/** "subject CN=www.example.com, SANs www.example.com, example.com, valid 2026-01-01 → 2026-04-01". */
export function describeCert(s: CertSummary): string {
  const sans = s.sans.length ? `SANs ${s.sans.join(', ')}` : 'no DNS names (subjectAltName)';
  return `subject ${s.subject}, ${sans}, valid ${day(s.notBefore)} → ${day(s.notAfter)}`;
}

/**
 * Does a certificate name (a SAN, possibly `*.example.com`) cover a server name? A wildcard
 * covers exactly one label (RFC 6125 6.4.3); a wildcard server name needs the same wildcard.
 */
export function sanCovers(san: string, name: string): boolean {
  const n = name.toLowerCase();
  if (san === n) return true;
  if (!san.startsWith('*.') || n.startsWith('*.')) return false;
  const dot = n.indexOf('.');
  return dot > 0 && n.slice(dot + 1) === san.slice(2);
}

/**
 * The names a server_name entry stands for, as a certificate must cover them; undefined for
 * entries no certificate can be checked against ($hostname, regular expressions, www.example.*).
 */
export function namesToCover(serverName: string): string[] | undefined {
  if (serverName.startsWith('~') || serverName.startsWith('$') || serverName.endsWith('.*')) return undefined;
  // nginx's ".example.com" is example.com and every name below it.
  if (serverName.startsWith('.')) return [serverName.slice(1), `*${serverName}`];
  return [serverName];
}

export function uncovered(sans: string[], serverNames: string[]): string[] {
  return serverNames.flatMap((s) => (namesToCover(s) ?? []).filter((n) => !sans.some((san) => sanCovers(san, n))));
}

/** SHA-256 of the public key (SPKI DER), colon-separated like certificate fingerprints. */
export function keyFingerprint(key: KeyObject): string {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  const spki = pub.export({ type: 'spki', format: 'der' });
  return colonHex(createHash('sha256').update(spki).digest());
}

export const colonHex = (b: Buffer) =>
  b
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');

export const daysLeft = (iso: string, now: Date) => Math.floor((new Date(iso).getTime() - now.getTime()) / 86_400_000);

export const dayCount = (n: number) => `${n} day${n === 1 ? '' : 's'}`;
