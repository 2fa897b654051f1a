/**
 * X.509 certificates made with node's crypto alone: the lab's own CA and server certificates
 * (`hactl lab up --tls`), and the certificates the tests need (expired, not yet valid, wrong
 * issuer, missing names). node can parse certificates but not write them, so this is a small
 * DER writer for exactly the fields a TLS server certificate has (RFC 5280). No openssl, so it
 * runs wherever hactl runs.
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';

/** DER tag-length-value. */
function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const len: number[] = [];
  for (let n = body.length; n > 0; n >>= 8) len.unshift(n & 0xff);
  const head = body.length < 0x80 ? [body.length] : [0x80 | len.length, ...len];
  return Buffer.concat([Buffer.from([tag, ...head]), body]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
const set = (...parts: Buffer[]) => tlv(0x31, ...parts);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
/** DER INTEGERs are minimal: no leading zero byte unless the next byte has its top bit set. */
function positiveInt(b: Buffer): Buffer {
  let start = 0;
  while (start < b.length - 1 && b[start] === 0) start++;
  const v = b.subarray(start);
  return tlv(0x02, v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a * 40 + b];
  for (const n of rest) {
    const enc: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      enc.unshift((v % 128) | (enc.length ? 0x80 : 0));
      if (v < 128) break;
    }
    out.push(...enc);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`)) : tlv(0x18, Buffer.from(`${y}${rest}`));
}

const commonName = (cn: string) => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn)))));
const extension = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

/** subjectAltName: DNS names as [2] IA5String, IP addresses as [7] octets. */
const altNames = (names: string[]) =>
  seq(...names.map((n) => (isIP(n) ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n)))));

const keyId = (spki: Buffer) => createHash('sha1').update(spki).digest();

export interface Issuer {
  certPem: string;
  key: KeyObject;
}

export interface MintOptions {
  commonName: string;
  /** subjectAltName entries: DNS names (wildcards allowed) and IP addresses. */
  sans?: string[];
  /** Who signs it; absent: self-signed. */
  issuer?: Issuer;
  /** A CA certificate (basicConstraints CA:TRUE, keyCertSign). */
  ca?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  /** The certificate's key pair; default a new P-256 key. */
  key?: KeyObject;
  /** An OCSP responder URL (authorityInfoAccess), which OCSP stapling needs. */
  ocspUrl?: string;
}

export interface Minted {
  certPem: string;
  keyPem: string;
  key: KeyObject;
}

export function newKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

function extensions(o: MintOptions, spki: Buffer, issuerSpki: Buffer): Buffer {
  const ocsp = o.ocspUrl
    ? [extension('1.3.6.1.5.5.7.1.1', false, seq(seq(oid('1.3.6.1.5.5.7.48.1'), tlv(0x86, Buffer.from(o.ocspUrl)))))]
    : [];
  const leaf = o.ca
    ? []
    : [
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
        ...(o.sans?.length ? [extension('2.5.29.17', false, altNames(o.sans))] : []),
      ];
  return tlv(
    0xa3,
    seq(
      extension('2.5.29.19', true, o.ca ? seq(bool(true)) : seq()),
      // CA: keyCertSign + cRLSign; server: digitalSignature + keyEncipherment.
      extension('2.5.29.15', true, o.ca ? bits(Buffer.from([0x06]), 1) : bits(Buffer.from([0xa0]), 5)),
      extension('2.5.29.14', false, octets(keyId(spki))),
      extension('2.5.29.35', false, seq(tlv(0x80, keyId(issuerSpki)))),
      ...leaf,
      ...ocsp,
    ),
  );
}

/** A certificate for `o.commonName`, signed by `o.issuer` (or by its own key). */
export function mintCertificate(o: MintOptions): Minted {
  const key = o.key ?? newKey();
  const signer = o.issuer?.key ?? key;
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const issuerSpki = o.issuer
    ? new X509Certificate(o.issuer.certPem).publicKey.export({ type: 'spki', format: 'der' })
    : spki;
  const issuerName = o.issuer ? Buffer.from(new X509Certificate(o.issuer.certPem).raw) : undefined;
  const notBefore = o.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = o.notAfter ?? new Date(notBefore.getTime() + 90 * 86_400_000);
  const algorithm = seq(oid('1.2.840.10045.4.3.2')); // ecdsa-with-SHA256
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    positiveInt(serial),
    algorithm,
    issuerName ? subjectOf(issuerName) : commonName(o.commonName),
    seq(time(notBefore), time(notAfter)),
    commonName(o.commonName),
    spki,
    extensions(o, spki, issuerSpki),
  );
  const signature = sign('sha256', tbs, signer);
  const der = seq(tbs, algorithm, bits(signature));
  const certPem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
  return {
    certPem: certPem.replace(/\n\n/g, '\n'),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    key,
  };
}

/** The elements of the DER SEQUENCE `b`, each with its own tag and length. */
function elements(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const [body] = readTlv(b, 0);
  for (let off = 0; off < body.length;) {
    const [, end] = readTlv(body, off);
    out.push(body.subarray(off, end));
    off = end;
  }
  return out;
}

/** [body, end offset] of the TLV at `off`. */
function readTlv(b: Buffer, off: number): [Buffer, number] {
  let len = b[off + 1];
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i];
    start += n;
  }
  return [b.subarray(start, start + len), start + len];
}

/** The subject Name of a DER certificate, copied byte for byte as the child's issuer. */
function subjectOf(certDer: Buffer): Buffer {
  // tbsCertificate: [0] version, serial, signature, issuer, validity, subject, …
  return elements(elements(certDer)[0])[5];
}
