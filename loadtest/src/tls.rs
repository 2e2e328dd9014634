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
