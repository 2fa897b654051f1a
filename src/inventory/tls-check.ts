/**
 * Is a site's certificate fit to push to every load balancer? Pure checks over the parsed
 * chain, key and CA bundle: the key matches the leaf, the chain is in order, every server
 * name is covered, the dates hold. Each finding describes the certificate (subject, names,
 * dates) and never the key.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import {
  dayCount,
  daysLeft,
  describeCert,
  keyFingerprint,
  namesToCover,
  notAfter,
  notBefore,
  summarize,
  uncovered,
} from '../util/x509.js';

export interface TlsInput {
  chain: X509Certificate[];
  /** Absent when it is not known here (key_env unset under validate). */
  key?: KeyObject;
  ca?: X509Certificate[];
  serverNames: string[];
  now: Date;
  warnDays: number;
  /** Expired or not yet valid: refused before a deploy, reported (not refused) by verify and status. */
  dateSeverity: 'error' | 'warning';
}

export interface TlsFinding {
  severity: 'error' | 'warning';
  /** The tls field the finding is about (where it is located in the inventory). */
  field: 'certificate' | 'key' | 'ca' | 'names';
  rule: string;
  message: string;
  fix: string;
}

const issued = (child: X509Certificate, parent: X509Certificate) =>
  child.checkIssued(parent) && child.verify(parent.publicKey);

const day = (d: Date) => d.toISOString().slice(0, 10);

function keyFindings(i: TlsInput): TlsFinding[] {
  const [leaf] = i.chain;
  const key = i.key;
  if (!key || leaf.checkPrivateKey(key)) return [];
  const owner = i.chain.findIndex((c) => c.checkPrivateKey(key));
  const message =
    owner > 0
      ? `the key belongs to certificate ${owner + 1} of the file (subject ${summarize(i.chain[owner]).subject}), not to the first: the file must start with the leaf`
      : `the key does not match the certificate: the key's public half has fingerprint ${keyFingerprint(key)}, the certificate's ${keyFingerprint(leaf.publicKey)}`;
  return [
    {
      severity: 'error',
      field: 'key',
      rule: 'tls-key',
      message,
      fix: 'give the key this certificate was issued for (or the certificate issued for this key)',
    },
  ];
}

function chainFindings(i: TlsInput): TlsFinding[] {
  const out: TlsFinding[] = [];
  const fix = 'write the leaf first, then the certificate that issued it, and so on (the root may be left out)';
  for (let n = 0; n + 1 < i.chain.length; n++) {
    if (issued(i.chain[n], i.chain[n + 1])) continue;
    const issuer = i.chain.findIndex((c, k) => k !== n && issued(i.chain[n], c));
    const s = summarize(i.chain[n]);
    const where = issuer >= 0 ? `; its issuer is certificate ${issuer + 1}` : '';
    const message = `the chain is out of order: certificate ${n + 2} (subject ${summarize(i.chain[n + 1]).subject}) did not issue certificate ${n + 1} (subject ${s.subject}, issuer ${s.issuer})${where}`;
    out.push({ severity: 'error', field: 'certificate', rule: 'tls-chain', message, fix });
    break;
  }
  return out;
}

function nameFindings(i: TlsInput): TlsFinding[] {
  const out: TlsFinding[] = [];
  const sans = summarize(i.chain[0]).sans;
  const missing = uncovered(sans, i.serverNames);
  if (missing.length)
    out.push({
      severity: 'error',
      field: 'names',
      rule: 'tls-names',
      message: `the certificate does not cover ${missing.join(', ')}`,
      fix: 'get a certificate whose subjectAltName lists every server name (a *.example.com SAN covers one label), or serve those names from another site',
    });
  const unchecked = i.serverNames.filter((s) => namesToCover(s) === undefined);
  if (unchecked.length)
    out.push({
      severity: 'warning',
      field: 'names',
      rule: 'tls-names',
      message: `${unchecked.join(', ')} cannot be checked against the certificate: it names no host hactl can list`,
      fix: 'list the host names explicitly so a failover cannot serve a certificate that lacks one',
    });
  return out;
}

function dateFindings(i: TlsInput): TlsFinding[] {
  const out: TlsFinding[] = [];
  const push = (severity: TlsFinding['severity'], message: string, fix: string) =>
    out.push({ severity, field: 'certificate', rule: 'tls-expiry', message, fix });
  i.chain.forEach((c, n) => {
    const which = n === 0 ? 'the certificate' : `certificate ${n + 1} of the chain (subject ${summarize(c).subject})`;
    if (notBefore(c) > i.now)
      push(
        i.dateSeverity,
        `${which} is not valid until ${c.validFrom}`,
        'check the clock here, or wait until it is valid',
      );
    const left = daysLeft(notAfter(c).toISOString(), i.now);
    if (notAfter(c) < i.now)
      push(i.dateSeverity, `${which} expired on ${day(notAfter(c))} (${dayCount(-left)} ago)`, 'renew it, then deploy');
    else if (n === 0 && left < i.warnDays)
      push(
        'warning',
        `${which} expires on ${day(notAfter(c))}, in ${dayCount(left)} (warning under ${i.warnDays})`,
        'renew it soon and deploy; the README shows DNS-01 renewal from this machine',
      );
  });
  return out;
}

function caFindings(i: TlsInput): TlsFinding[] {
  if (!i.ca) return [];
  const last = i.chain[i.chain.length - 1];
  const trusted = i.ca.some((c) => c.fingerprint256 === last.fingerprint256 || issued(last, c));
  if (trusted) return [];
  return [
    {
      severity: 'error',
      field: 'ca',
      rule: 'tls-ca',
      message: `the chain does not lead to a CA in tls.ca: its last certificate (subject ${summarize(last).subject}) was issued by ${summarize(last).issuer}`,
      fix: 'set tls.ca to the bundle of the CA that issued this chain, or add the missing intermediate to the certificate file',
    },
  ];
}

/** Every finding, each message ending with what the certificate is. */
export function checkCertificate(i: TlsInput): TlsFinding[] {
  const about = ` (${describeCert(summarize(i.chain[0]))})`;
  return [...keyFindings(i), ...chainFindings(i), ...nameFindings(i), ...dateFindings(i), ...caFindings(i)].map(
    (f) => ({ ...f, message: f.message + about }),
  );
}
