//! rustls server configuration from PEM text (Dovecot's `ssl_cert = <file`
//! form gives us file *contents*), with the minimum protocol version from
//! `ssl_min_protocol` and optional client certificates from `ssl_ca`.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("ssl_cert: no certificate found in the PEM text")]
    NoCertificate,
    #[error("ssl_cert: {0}")]
    BadCertificate(String),
    #[error("ssl_key: {0}")]
    BadKey(String),
    #[error("ssl_ca: {0}")]
    BadCa(String),
    #[error("TLS configuration rejected: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Lowest TLS version the server accepts. rustls implements only 1.2 and
/// 1.3, so Dovecot's older values (SSLv3, TLSv1, TLSv1.1, ANY) all mean
/// "1.2 or later" here: those versions are refused whatever the config says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinTls {
    Tls12,
    Tls13,
}

/// What a TLS server configuration is built from.
#[derive(Clone)]
pub struct TlsMaterial {
    pub cert_pem: String,
    pub key_pem: String,
    /// CA certificates used only to verify optional client certificates.
    pub client_ca_pem: Option<String>,
    pub min_version: MinTls,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("cert_pem_len", &self.cert_pem.len())
            .field("key_pem", &"<hidden>")
            .field("client_ca", &self.client_ca_pem.is_some())
            .field("min_version", &self.min_version)
            .finish()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the server configuration. The first certificate in `cert_pem` is
/// the server's; further ones are sent as its chain, as Dovecot does.
pub fn server_config(m: &TlsMaterial) -> Result<Arc<ServerConfig>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(m.cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::BadCertificate(e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    let key = PrivateKeyDer::from_pem_slice(m.key_pem.as_bytes())
        .map_err(|e| TlsError::BadKey(e.to_string()))?;
    let versions: &[&rustls::SupportedProtocolVersion] = match m.min_version {
        MinTls::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        MinTls::Tls13 => &[&rustls::version::TLS13],
    };
    let builder =
        ServerConfig::builder_with_provider(provider()).with_protocol_versions(versions)?;
    let builder = match &m.client_ca_pem {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                let cert = cert.map_err(|e| TlsError::BadCa(e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| TlsError::BadCa(e.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .allow_unauthenticated()
                .build()
                .map_err(|e| TlsError::BadCa(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut cfg = builder.with_single_cert(chain, key)?;
    // Session resumption with stateless tickets: the kernel hands a
    // reconnecting client to any shard, and every shard holds this same
    // ticket key, so any shard can resume any session. A session cache
    // (stateful tickets) would only resume on the shard that issued the
    // ticket: with N shards, N-1 of N reconnects paid for a full handshake.
    // The key rotates every 6 hours and a ticket lives at most 12.
    cfg.ticketer = rustls::crypto::ring::Ticketer::new()?;
    Ok(Arc::new(cfg))
}

/// A self-signed certificate for the embedded default (and for tests).
pub struct SelfSigned {
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn self_signed(names: &[&str]) -> Result<SelfSigned, TlsError> {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names)
        .map_err(|e| TlsError::BadCertificate(e.to_string()))?;
    Ok(SelfSigned {
        cert_pem: ck.cert.pem(),
        key_pem: ck.signing_key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_from_self_signed_material() {
        let ss = self_signed(&["localhost"]).unwrap();
        let m = TlsMaterial {
            cert_pem: ss.cert_pem.clone(),
            key_pem: ss.key_pem,
            client_ca_pem: Some(ss.cert_pem),
            min_version: MinTls::Tls12,
        };
        assert!(server_config(&m).is_ok());
    }

    #[test]
    fn rejects_missing_cert_and_bad_key() {
        let ss = self_signed(&["localhost"]).unwrap();
        let m = TlsMaterial {
            cert_pem: String::new(),
            key_pem: ss.key_pem.clone(),
            client_ca_pem: None,
            min_version: MinTls::Tls12,
        };
        assert!(matches!(server_config(&m), Err(TlsError::NoCertificate)));
        let m = TlsMaterial {
            cert_pem: ss.cert_pem,
            key_pem: "garbage".into(),
            client_ca_pem: None,
            min_version: MinTls::Tls13,
        };
        assert!(matches!(server_config(&m), Err(TlsError::BadKey(_))));
    }
}
