/**
 * Reading each site's certificate, key and CA bundle when the inventory is loaded (paths are
 * relative to the inventory file), checking them (tls-check.ts), and attaching them to the
 * model. Every failure is a located problem: a missing or unreadable file, a key that is not a
 * key, a certificate file that holds a key too. The key's text never appears in a message.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import type { ClusterDoc, InventoryDoc, TlsDoc } from './schema.js';
import type { Locator, PathSeg, Problem } from './problems.js';
import { DEFAULTS, type Inventory, type SiteTls } from './model.js';
import { Secret } from './secret.js';
import { checkCertificate } from './tls-check.js';
import { holdsPrivateKey, keyFingerprint, parseChain, summarize } from '../util/x509.js';

export interface TlsLoadOptions {
  /** Directory relative paths are read from: the inventory file's. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /** key_env must be set (deploy, render); validate and verify only warn. */
  requireSecrets: boolean;
  now: Date;
  dateSeverity: 'error' | 'warning';
}

/** The checked material of every TLS site, by "cluster index/site index". */
export type TlsMaterial = Map<string, SiteTls>;

const MAX_PEM_BYTES = 1024 * 1024;

class FileProblem extends Error {}

function readPem(path: string, baseDir: string): string {
  const file = path.startsWith('~/') ? resolve(homedir(), path.slice(2)) : resolve(baseDir, path);
  const shown = isAbsolute(path) ? path : `${path} (${file})`;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new FileProblem(`${shown} is a directory, not a PEM file`);
    // A FIFO or a device could block the read or never end.
    if (!st.isFile()) throw new FileProblem(`${shown} is not a regular file`);
    if (st.size > MAX_PEM_BYTES) throw new FileProblem(`${shown} is larger than 1 MiB: not a certificate or key`);
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(st.size, MAX_PEM_BYTES));
      let n = 0;
      for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
      return buf.subarray(0, n).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof FileProblem) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'is not readable (permission denied)'
          : `cannot be read (${code ?? 'error'})`;
    throw new FileProblem(`${shown} ${why}`);
  }
}

interface SiteCtx {
  tls: TlsDoc;
  at: (...p: PathSeg[]) => PathSeg[];
  loc: Locator;
  o: TlsLoadOptions;
  problems: Problem[];
}

/** A problem at tls.<field>, or at the site's own <field> when it is outside tls: (server_names). */
function problem(s: SiteCtx, field: string, rule: string, message: string, fix: string, warning = false): void {
  const path = field === 'server_names' ? s.at(field) : s.at('tls', field);
  s.problems.push(s.loc.problem(path, rule, message, fix, { severity: warning ? 'warning' : 'error' }));
}

function readChain(
  s: SiteCtx,
  field: 'certificate' | 'ca',
  path: string,
): { pem: string; chain: X509Certificate[] } | undefined {
  try {
    const pem = readPem(path, s.o.baseDir);
    if (holdsPrivateKey(pem)) {
      const fix = 'keep the key in its own file (tls.key): the certificate file is written world-readable';
      problem(s, field, 'tls-file', `${path} holds a private key as well as certificates`, fix);
      return undefined;
    }
    const chain = parseChain(pem);
    if (chain.length > 0) return { pem, chain };
    problem(s, field, 'tls-file', `${path} holds no PEM certificate`, 'give a PEM file (-----BEGIN CERTIFICATE-----)');
  } catch (e) {
    const message = e instanceof FileProblem ? e.message : `${path} holds a certificate that does not parse`;
    problem(s, field, 'tls-file', message, 'check the path (relative to the inventory file) and the file');
  }
  return undefined;
}

/** The key's text and object, or why not; the text itself is never put in a message. */
function readKey(s: SiteCtx): { text: string; key?: KeyObject; source: string } | undefined {
  const { tls, o } = s;
  if ((tls.key === undefined) === (tls.key_env === undefined)) {
    problem(s, 'key', 'tls', 'give exactly one of key or key_env', 'key: path/to/site.key, or key_env: SITE_TLS_KEY');
    return undefined;
  }
  const source = tls.key ?? `$${tls.key_env}`;
  let text: string;
  try {
    text = tls.key !== undefined ? readPem(tls.key, o.baseDir) : (o.env[tls.key_env ?? ''] ?? '');
  } catch (e) {
    problem(
      s,
      'key',
      'tls-file',
      (e as Error).message,
      'check the path (relative to the inventory file) and its permissions',
    );
    return undefined;
  }
  if (tls.key_env !== undefined && text === '') {
    const fix = `export ${tls.key_env}="$(cat site.key)"`;
    problem(s, 'key_env', 'tls-key', `environment variable ${tls.key_env} is not set`, fix, !o.requireSecrets);
    return { text: '', source };
  }
  try {
    return { text, key: createPrivateKey({ key: text, format: 'pem' }), source };
  } catch {
    // A passphrase-protected PEM says so in its armour (PKCS#8) or its headers (traditional).
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text);
    const message = encrypted
      ? `the key in ${source} is encrypted with a passphrase, which nginx would ask for at every start`
      : `${source} holds no PEM private key that can be read`;
    problem(
      s,
      tls.key !== undefined ? 'key' : 'key_env',
      'tls-key',
      message,
      'give the unencrypted PEM key (openssl pkey -in KEY -out KEY.plain)',
    );
    return undefined;
  }
}

function siteTls(s: SiteCtx, serverNames: string[]): SiteTls | undefined {
  const { tls, o } = s;
  const cert = readChain(s, 'certificate', tls.certificate);
  const key = readKey(s);
  const ca = tls.ca !== undefined ? readChain(s, 'ca', tls.ca) : undefined;
  if (!cert || !key || (tls.ca !== undefined && !ca)) return undefined;
  const { chain } = cert;
  const warnDays = tls.expiry_warning_days ?? DEFAULTS.tlsExpiryWarningDays;
  const findings = checkCertificate({
    chain,
    key: key.key,
    ca: ca?.chain,
    serverNames,
    now: o.now,
    warnDays,
    dateSeverity: o.dateSeverity,
  });
  const where = {
    certificate: 'certificate',
    key: tls.key !== undefined ? 'key' : 'key_env',
    ca: 'ca',
    names: 'server_names',
  };
  for (const f of findings) problem(s, where[f.field], f.rule, f.message, f.fix, f.severity === 'warning');
  return {
    certificatePem: cert.pem,
    certificateFile: tls.certificate,
    leaf: summarize(chain[0]),
    key: new Secret(key.text),
    keySource: key.source,
    keyFingerprint: key.key ? keyFingerprint(key.key) : '',
    redirectHttp: tls.redirect_http ?? true,
    ...(tls.hsts !== undefined ? { hsts: tls.hsts } : {}),
    http2: tls.http2 ?? true,
    ...(ca ? { caPem: ca.pem, caFile: tls.ca } : {}),
    expiryWarningDays: warnDays,
    ocspStapling: chain.length > 1 && /OCSP - URI:/.test(chain[0].infoAccess ?? ''),
  };
}

/** Reads and checks every site's TLS material; the problems are located at its tls: fields. */
export function loadTls(
  doc: InventoryDoc,
  loc: Locator,
  o: TlsLoadOptions,
): { problems: Problem[]; material: TlsMaterial } {
  const problems: Problem[] = [];
  const material: TlsMaterial = new Map();
  doc.clusters.forEach((c: ClusterDoc, ci) =>
    c.sites.forEach((site, si) => {
      if (!site.tls) return;
      const at = (...p: PathSeg[]) => ['clusters', ci, 'sites', si, ...p];
      const got = siteTls({ tls: site.tls, at, loc, o, problems }, site.server_names);
      if (got) material.set(`${ci}/${si}`, got);
    }),
  );
  return { problems, material };
}

/** The model's sites get their TLS material (normalize builds everything else). */
export function attachTls(inv: Inventory, material: TlsMaterial): Inventory {
  inv.clusters.forEach((c, ci) =>
    c.sites.forEach((site, si) => {
      const tls = material.get(`${ci}/${si}`);
      if (tls) site.tls = tls;
    }),
  );
  return inv;
}
