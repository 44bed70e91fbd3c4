/**
 * TLS settings for a connection to a broker over TLS. The connection's constructor loads `ca`, `cert`, `key` and
 * `passphrase` into a secure context (a wrong passphrase is `INVALID_OPTIONS` naming `tls.passphrase`); only that
 * context, `servername` and `rejectUnauthorized` reach Node's `tls.connect`.
 */
export interface TlsOptions {
  /** Certificate authorities to trust instead of Node's default list (PEM). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate chain for mutual TLS (PEM). */
  cert?: string | Buffer | Array<string | Buffer>;
  /** Client private key for mutual TLS (PEM). */
  key?: string | Buffer | Array<string | Buffer>;
  /** Passphrase of `key`. */
  passphrase?: string;
  /**
   * Server name for SNI and certificate checks.
   * @default the URI's host name (unless it is an IP address)
   */
  servername?: string;
  /**
   * Reject a server certificate that does not verify against `ca`.
   * @default true
   */
  rejectUnauthorized?: boolean;
}
