//! TLS for the platform's listeners, with rustls: the router's HTTPS port
//! and the Cloud Controller's (with UAA) when it is given a certificate.
//!
//! A listener's [`Certificates`] are either files named in the config —
//! any number of them, as gorouter's `tls_pem` list, a client's SNI name
//! picking the one valid for it (by the certificate's own names, checked
//! as a client checks them; a name none covers gets the first) — or, when
//! the config names none, a certificate authority of the platform's own
//! ([`LocalAuthority`]): made on the first start and kept in the data dir,
//! it issues a certificate for each name a client asks for (an app's
//! route), so a client that trusts its `ca.crt` once (`curl --cacert`)
//! trusts every app, as mkcert and Caddy's internal CA do. (One
//! self-signed wildcard would not do: clients refuse `*.localhost`, a
//! wildcard right under a top-level name.)
//!
//! [`Listener`] is a TCP listener whose connections come out after their
//! handshake, which runs beside the accept loop (a slow or silent client
//! holds up nobody, and is dropped after [`HANDSHAKE_TIMEOUT`]). It is an
//! axum listener, so the CC serves over it unchanged; the router accepts
//! from it as from its plain listener.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{Datelike, Utc};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::{CertifiedKey, SigningKey};
use tokio_rustls::rustls::{ServerConfig, crypto};
use tokio_rustls::server::TlsStream;

/// How long a client may take over its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshaken connections waiting for the server to take them.
const ACCEPTED_QUEUE: usize = 128;

/// Certificates a [`LocalAuthority`] keeps issued; past it, it starts afresh.
const ISSUED_KEPT: usize = 4096;

/// A certificate and its key, as PEM files (gorouter's `cert_chain` and
/// `private_key`, as paths).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateFiles {
    /// The certificate, then any intermediates.
    pub cert_chain: PathBuf,
    pub private_key: PathBuf,
}

impl CertificateFiles {
    /// Reads the files: the chain and a key rustls can sign with.
    pub fn load(&self) -> Result<CertifiedKey> {
        let chain = CertificateDer::pem_file_iter(&self.cert_chain)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("reading the certificates in {}", self.cert_chain.display()))?;
        if chain.is_empty() {
            bail!("{} holds no PEM certificate", self.cert_chain.display());
        }
        let key = PrivateKeyDer::from_pem_file(&self.private_key)
            .with_context(|| format!("reading the private key in {}", self.private_key.display()))?;
        let signer = crypto::ring::sign::any_supported_type(&key)
            .with_context(|| format!("the key in {} is of no kind TLS signs with", self.private_key.display()))?;
        Ok(CertifiedKey::new(chain, signer))
    }
}

/// Where a listener's certificates come from.
pub enum Certificates {
    /// Files from the config, picked by SNI name (the first by default).
    Files(Vec<CertificateFiles>),
    /// The platform's own authority, issuing for names under its domains.
    Local(Box<LocalAuthority>),
}

/// A TLS server config for `certificates`, offering HTTP/2 and HTTP/1.1.
pub fn server_config(certificates: Certificates) -> Result<Arc<ServerConfig>> {
    let resolver: Arc<dyn ResolvesServerCert> = match certificates {
        Certificates::Files(files) => {
            let keys = files.iter().map(|c| c.load().map(Arc::new)).collect::<Result<Vec<_>>>()?;
            if keys.is_empty() {
                bail!("a TLS listener needs a certificate");
            }
            Arc::new(BySni { keys })
        }
        Certificates::Local(authority) => Arc::new(*authority),
    };
    let mut config = ServerConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Picks the certificate valid for the client's SNI name.
#[derive(Debug)]
struct BySni {
    keys: Vec<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for BySni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name().and_then(|n| ServerName::try_from(n).ok());
        let valid_for = |key: &&Arc<CertifiedKey>| {
            let (Some(name), Some(cert)) = (&name, key.end_entity_cert().ok()) else { return false };
            webpki::EndEntityCert::try_from(cert).is_ok_and(|c| c.verify_is_valid_for_subject_name(name).is_ok())
        };
        self.keys.iter().find(valid_for).or(self.keys.first()).cloned()
    }
}

/// A certificate authority of the platform's own (`ca.crt` and `ca.key`
/// in its directory, made on first use and kept), issuing a certificate
/// for each name under its domains a client asks for, valid for a year
/// and kept in memory. A client naming none, or a name elsewhere, gets
/// the certificate for its default names.
pub struct LocalAuthority {
    signing: Signing,
    domains: Vec<String>,
    default: Arc<CertifiedKey>,
    issued: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for LocalAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAuthority").field("domains", &self.domains).finish_non_exhaustive()
    }
}

/// The authority's own certificate's fields: the same each start, so
/// what it issues chains to the `ca.crt` made on the first.
fn authority_params() -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, "wasmfoundry local certificate authority");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

/// From a day ago to `days` from now.
fn valid_for(params: &mut CertificateParams, days: i64) {
    let day = |offset: i64| {
        let date = (Utc::now() + chrono::Duration::days(offset)).date_naive();
        rcgen::date_time_ymd(date.year(), date.month() as u8, date.day() as u8)
    };
    params.not_before = day(-1);
    params.not_after = day(days);
}

impl LocalAuthority {
    /// The authority kept in `dir` (made there on first use), issuing for
    /// `domains` and their subdomains, and for `default_names` to clients
    /// naming none of them.
    pub fn open(dir: &Path, domains: Vec<String>, default_names: Vec<String>) -> Result<LocalAuthority> {
        let (cert_file, key_file) = (dir.join("ca.crt"), dir.join("ca.key"));
        let ca_key = match std::fs::read_to_string(&key_file) {
            Ok(pem) if cert_file.exists() => {
                KeyPair::from_pem(&pem).with_context(|| format!("reading {}", key_file.display()))?
            }
            _ => {
                let key = KeyPair::generate()?;
                let mut params = authority_params()?;
                valid_for(&mut params, 10 * 365);
                let cert = params.self_signed(&key)?;
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                write_private(&key_file, &key.serialize_pem())?;
                std::fs::write(&cert_file, cert.pem()).with_context(|| format!("writing {}", cert_file.display()))?;
                tracing::info!("made a certificate authority for HTTPS in {}", cert_file.display());
                key
            }
        };
        let key = KeyPair::generate()?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signer = crypto::ring::sign::any_supported_type(&der).context("a key for issued certificates")?;
        let signing = Signing { issuer: Issuer::new(authority_params()?, ca_key), key, signer };
        let default = signing.issue(default_names)?;
        Ok(LocalAuthority { signing, domains, default, issued: Mutex::default() })
    }

    fn covers(&self, name: &str) -> bool {
        self.domains.iter().any(|d| name == d || name.strip_suffix(d.as_str()).is_some_and(|sub| sub.ends_with('.')))
    }
}

impl ResolvesServerCert for LocalAuthority {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = hello.server_name().map(str::to_ascii_lowercase).filter(|n| self.covers(n)) else {
            return Some(self.default.clone());
        };
        if let Some(issued) = self.issued.lock().expect("issued certificates").get(&name) {
            return Some(issued.clone());
        }
        let issued = match self.signing.issue(vec![name.clone()]) {
            Ok(issued) => issued,
            Err(e) => {
                tracing::warn!("issuing a certificate for {name}: {e}");
                return Some(self.default.clone());
            }
        };
        let mut kept = self.issued.lock().expect("issued certificates");
        if kept.len() >= ISSUED_KEPT {
            kept.clear();
        }
        kept.insert(name, issued.clone());
        Some(issued)
    }
}

/// What a [`LocalAuthority`] signs with: its own key, and the one key of
/// every certificate it issues (as rcgen and as rustls have it).
struct Signing {
    issuer: Issuer<'static, KeyPair>,
    key: KeyPair,
    signer: Arc<dyn SigningKey>,
}

impl Signing {
    /// A certificate for `names`, valid for a year.
    fn issue(&self, names: Vec<String>) -> Result<Arc<CertifiedKey>> {
        let mut params = CertificateParams::new(names)?;
        valid_for(&mut params, 365);
        params.use_authority_key_identifier_extension = true;
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&self.key, &self.issuer)?;
        Ok(Arc::new(CertifiedKey::new(vec![cert.der().clone()], self.signer.clone())))
    }
}

/// Writes a private key readable by its owner alone.
fn write_private(path: &Path, pem: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("writing {}", path.display()))?;
    io::Write::write_all(&mut file, pem.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// A TCP listener whose connections come out TLS-handshaken.
pub struct Listener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl Listener {
    /// Accepts on `tcp` until the listener is dropped, running each
    /// handshake in a task of its own.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> io::Result<Listener> {
        let local = tcp.local_addr()?;
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let (handshaken, accepted) = mpsc::channel(ACCEPTED_QUEUE);
        tokio::spawn(async move {
            loop {
                let (stream, client) = tokio::select! {
                    connection = tcp.accept() => match connection {
                        Ok(connection) => connection,
                        Err(e) => {
                            // Out of descriptors, most likely: wait for some to close.
                            tracing::debug!("accepting a TLS connection: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                    // The server is gone: close the port.
                    () = handshaken.closed() => return,
                };
                let _ = stream.set_nodelay(true);
                let (acceptor, handshaken) = (acceptor.clone(), handshaken.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = handshaken.send((tls, client)).await;
                        }
                        Ok(Err(e)) => tracing::debug!("TLS handshake with {client} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake with {client} timed out"),
                    }
                });
            }
        });
        Ok(Listener { accepted, local })
    }
}

impl axum::serve::Listener for Listener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(connection) => connection,
            // The accept loop ends only when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
