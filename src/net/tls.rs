//! TLS for `stratum+ssl://`: on the miner's side rustls with the webpki root store, certificates
//! verified, and an explicit insecure mode for pools with self-signed certificates; on the test
//! pool's side a server configuration from PEM files or a self-signed certificate made at start.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// A client configuration: verified against the webpki roots, or (`insecure`) accepting any
/// certificate while still checking handshake signatures.
pub fn client_config(insecure: bool) -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let cfg = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(cfg))
}

/// Accepts any server certificate (`--tls-insecure`), still verifying the handshake signature.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
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
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Where a TLS listener's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCert {
    /// A self-signed certificate made at start-up for `localhost` and these names (miners then
    /// need `--tls-insecure`).
    SelfSigned(Vec<String>),
    /// A certificate chain and its private key, PEM files.
    Files {
        /// The certificate chain.
        cert: std::path::PathBuf,
        /// The private key (PKCS#8, PKCS#1 or SEC1).
        key: std::path::PathBuf,
    },
}

/// Why a TLS listener could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServerTlsError {
    /// The self-signed certificate could not be made.
    #[error("self-signed certificate: {0}")]
    SelfSigned(#[from] rcgen::Error),
    /// A PEM file could not be read.
    #[error("{path}: {error}")]
    Pem {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        error: rustls::pki_types::pem::Error,
    },
    /// rustls refused the certificate or key.
    #[error("TLS server setup: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A server configuration for the test pool's TLS listener.
///
/// # Errors
/// When the certificate cannot be made or read, or rustls refuses it.
pub fn server_config(cert: &ServerCert) -> Result<Arc<rustls::ServerConfig>, ServerTlsError> {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let (chain, key) = match cert {
        ServerCert::SelfSigned(names) => {
            let mut all = vec!["localhost".to_string()];
            all.extend(names.iter().cloned());
            let ck = rcgen::generate_simple_self_signed(all)?;
            let key = PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
            (vec![ck.cert.der().clone()], key)
        }
        ServerCert::Files { cert, key } => {
            fn pem(
                path: &std::path::Path,
            ) -> impl Fn(rustls::pki_types::pem::Error) -> ServerTlsError + '_ {
                move |error| ServerTlsError::Pem {
                    path: path.to_path_buf(),
                    error,
                }
            }
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(pem(cert))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(pem(cert))?;
            (chain, PrivateKeyDer::from_pem_file(key).map_err(pem(key))?)
        }
    };
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(Arc::new(cfg))
}
