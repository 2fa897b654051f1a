/**
 * The TLS side of the one HTTP client: a new connection with a full handshake per request
 * (never a resumed session: each request must see the certificate served *now*), SNI set to
 * the site's name, verified against the site's CA bundle or node's public roots. Verification
 * failures do not abort the request: the peer's certificate and the verdict are reported, so
 * verify can say what was served and why it is not trusted.
 */
import { connect, type TLSSocket } from 'node:tls';
import { summarize, type CertSummary } from './x509.js';

export interface TlsTarget {
  /** SNI, and the name the certificate is checked against. */
  servername: string;
  /** PEM CA bundle to trust instead of node's public roots (Mozilla's list, plus NODE_EXTRA_CA_CERTS). */
  ca?: string;
  /** Offer only these protocol versions (tests: an old client). */
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
}

export interface TlsPeer {
  /** The chain verified against the CA bundle (or node's public roots). */
  authorized: boolean;
  authorizationError?: string;
  /** TLSv1.2, TLSv1.3. */
  protocol?: string;
  alpn?: string;
  certificate?: CertSummary;
}

function peerOf(s: TLSSocket): TlsPeer {
  const cert = s.getPeerX509Certificate();
  return {
    authorized: s.authorized,
    ...(s.authorizationError ? { authorizationError: String(s.authorizationError) } : {}),
    ...(s.getProtocol() ? { protocol: s.getProtocol() ?? undefined } : {}),
    ...(s.alpnProtocol ? { alpn: s.alpnProtocol } : {}),
    ...(cert ? { certificate: summarize(cert) } : {}),
  };
}

/** A socket for http.request's createConnection; `onPeer` hears what the handshake showed. */
export function tlsConnection(ip: string, port: number, t: TlsTarget, onPeer: (p: TlsPeer) => void): TLSSocket {
  const socket = connect({
    host: ip,
    port,
    servername: t.servername,
    ...(t.ca ? { ca: t.ca } : {}),
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
    ...(t.minVersion ? { minVersion: t.minVersion } : {}),
    ...(t.maxVersion ? { maxVersion: t.maxVersion } : {}),
    // TLS 1.0/1.1 are below OpenSSL 3's default security level: allow them when a test asks.
    ...(t.maxVersion === 'TLSv1' || t.maxVersion === 'TLSv1.1' ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
  });
  socket.once('secureConnect', () => onPeer(peerOf(socket)));
  return socket;
}
