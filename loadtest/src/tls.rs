//! Client TLS settings (rustls with ring, like the server).

use std::path::Path;
use std::sync::Arc;

use futures_rustls::TlsConnector;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::SetupError;

#[derive(Clone)]
pub struct TlsCtx {
    pub connector: TlsConnector,
    pub server_name: ServerName<'static>,
}

impl std::fmt::Debug for TlsCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsCtx")
            .field("server_name", &self.server_name)
            .finish()
    }
}

/// `--insecure`: accepts any certificate but still checks the handshake
/// signatures, so the handshake costs what a verifying client's would
/// (minus the chain check).
#[derive(Debug)]
struct AcceptAnyCert(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

pub fn build(
    ca: Option<&Path>,
    insecure: bool,
    sni: &str,
    resume: bool,
) -> Result<TlsCtx, SetupError> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::Tls(e.to_string()))?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(
                provider.signature_verification_algorithms,
            )))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        if let Some(path) = ca {
            let name = path.display().to_string();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| SetupError::Ca(name.clone(), e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SetupError::Ca(name.clone(), e.to_string()))?;
            if certs.is_empty() {
                return Err(SetupError::Ca(name, "no certificate in it".into()));
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| SetupError::Ca(name.clone(), e.to_string()))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    if !resume {
        config.resumption = rustls::client::Resumption::disabled();
    }
    let server_name =
        ServerName::try_from(sni.to_string()).map_err(|e| SetupError::Tls(e.to_string()))?;
    Ok(TlsCtx {
        connector: TlsConnector::from(Arc::new(config)),
        server_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::{Conn, Dialer};
    use glommio::{LocalExecutorBuilder, Placement};
    use rustls_pki_types::PrivateKeyDer;
    use std::io::{BufRead, BufReader, Write};

    /// A one-connection TLS server on a std thread; returns its address and
    /// the CA (= its self-signed certificate) as PEM.
    fn tls_server() -> (std::net::SocketAddr, String) {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("rcgen");
        let pem = ck.cert.pem();
        let chain = vec![ck.cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("cert");
        let config = Arc::new(config);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for sock in listener.incoming().flatten() {
                let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                    continue;
                };
                let mut tls = rustls::StreamOwned::new(conn, sock);
                if tls.write_all(b"* OK tls ready\r\n").is_err() {
                    continue;
                }
                let mut line = String::new();
                let mut reader = BufReader::new(tls);
                if reader.read_line(&mut line).is_ok() {
                    let tls = reader.get_mut();
                    let _ = tls.write_all(format!("echo {line}").as_bytes());
                }
            }
        });
        (addr, pem)
    }

    fn talk(addr: std::net::SocketAddr, ctx: TlsCtx) -> Result<(String, String), String> {
        LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(1 << 20)
            .spawn(move || async move {
                let dialer = Dialer::new(addr);
                let mut c = Conn::open(&dialer, Some(&ctx))
                    .await
                    .map_err(|e| e.to_string())?;
                let greeting =
                    String::from_utf8_lossy(c.read_line().await.map_err(|e| e.to_string())?)
                        .into_owned();
                c.send(b"a1 NOOP\r\n").await.map_err(|e| e.to_string())?;
                let echo = String::from_utf8_lossy(c.read_line().await.map_err(|e| e.to_string())?)
                    .into_owned();
                Ok((greeting, echo))
            })
            .expect("executor")
            .join()
            .expect("join")
    }

    #[test]
    fn implicit_tls_with_ca_file_and_insecure() {
        let (addr, pem) = tls_server();
        let path =
            std::env::temp_dir().join(format!("tern-loadtest-ca-{}.pem", std::process::id()));
        std::fs::write(&path, &pem).expect("write CA");

        let verified = build(Some(&path), false, "localhost", true).expect("ctx");
        let (greeting, echo) = talk(addr, verified).expect("verified TLS");
        assert_eq!(greeting, "* OK tls ready");
        assert_eq!(echo, "echo a1 NOOP");

        // the certificate does not name this host: verification must fail…
        let wrong = build(Some(&path), false, "mail.example.org", true).expect("ctx");
        assert!(talk(addr, wrong).is_err());
        // …unless verification is off
        let insecure = build(None, true, "mail.example.org", false).expect("ctx");
        assert!(talk(addr, insecure).is_ok());

        let empty =
            std::env::temp_dir().join(format!("tern-loadtest-empty-{}.pem", std::process::id()));
        std::fs::write(&empty, "").expect("write");
        assert!(matches!(
            build(Some(&empty), false, "localhost", true),
            Err(SetupError::Ca(..))
        ));
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(empty);
    }
}
