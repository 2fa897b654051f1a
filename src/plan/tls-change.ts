/**
 * How a plan shows a certificate or key change: by what it is, never by its text. A
 * certificate: subject, names, expiry and fingerprint, old → new. A key: its fingerprint only
 * ("key changed (fingerprint …)"); the old key on the host is not shown either, and the masker
 * would not know it.
 */
import { createPrivateKey } from 'node:crypto';
import type { RenderedFile } from '../render/render.js';
import { keyFingerprint, parseChain, summarize } from '../util/x509.js';

function certLine(pem: string): string {
  try {
    const [leaf] = parseChain(pem);
    if (!leaf) return 'no certificate';
    const s = summarize(leaf);
    return `certificate: subject ${s.subject}, SANs ${s.sans.join(', ') || 'none'}, expires ${s.notAfter.slice(0, 10)}, SHA-256 ${s.fingerprint256}`;
  } catch {
    return 'a certificate that does not parse';
  }
}

export function keyPrint(pem: string): string {
  try {
    return keyFingerprint(createPrivateKey(pem));
  } catch {
    return pem === '' ? 'not known here' : 'not a readable key';
  }
}

/** The reason and the diff-shaped description that stand for a text diff of a TLS file. */
export function tlsChange(file: RenderedFile, remote: string | undefined): { reason: string; diff: string } {
  if (file.kind === 'key') {
    const now = keyPrint(file.content);
    const reason =
      remote === undefined ? `key (fingerprint ${now})` : `key changed (fingerprint ${keyPrint(remote)} → ${now})`;
    return { reason, diff: '' };
  }
  const head = `--- ${remote === undefined ? '/dev/null' : file.path}\n+++ ${file.path}\n`;
  const old = remote === undefined ? '' : `-${certLine(remote)}\n`;
  return {
    reason: remote === undefined ? 'certificate' : 'certificate changed',
    diff: `${head}${old}+${certLine(file.content)}\n`,
  };
}
