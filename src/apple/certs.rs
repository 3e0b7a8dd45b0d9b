//! The Pass Type ID signing identity: certificate, key and WWDR intermediate, checked at start.
//!
//! Apple: the certificate subject is `UID=<passTypeIdentifier>, CN=Pass Type ID: <id>, OU=<team>`;
//! it must be issued by the WWDR intermediate (G4 since 2022) that the signature carries.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Context, Result, anyhow, bail};
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::x509::{X509, X509Ref, X509VerifyResult};

use crate::secret::Secret;

/// Where the demo certificates live, used when no real certificate is configured.
pub const DEMO_CERT: &str = "certs-example/pass-cert.pem";
pub const DEMO_KEY: &str = "certs-example/pass-key.pem";
pub const DEMO_WWDR: &str = "certs-example/wwdr.pem";

/// Which certificate files to load, after applying the demo defaults.
#[derive(Debug, Clone)]
pub struct AppleCertPaths {
    pub cert: PathBuf,
    pub key: Option<PathBuf>,
    pub wwdr: Option<PathBuf>,
    pub password: Option<Secret>,
    pub demo: bool,
}

impl From<&crate::config::Apple> for AppleCertPaths {
    /// The configured files, or the demo set when no certificate is set.
    fn from(apple: &crate::config::Apple) -> Self {
        match &apple.cert {
            Some(cert) => AppleCertPaths {
                cert: cert.clone(),
                key: apple.key.clone(),
                wwdr: apple.wwdr.clone(),
                password: apple.key_password.clone(),
                demo: false,
            },
            None => AppleCertPaths {
                cert: DEMO_CERT.into(),
                key: Some(apple.key.clone().unwrap_or_else(|| DEMO_KEY.into())),
                wwdr: Some(apple.wwdr.clone().unwrap_or_else(|| DEMO_WWDR.into())),
                password: apple.key_password.clone(),
                demo: true,
            },
        }
    }
}

/// Days before expiry from which a certificate is reported at start.
const EXPIRY_WARNING_DAYS: u32 = 30;

/// The demo pass certificate of `certs-example/` (also inside its `.p12` files), built into the binary so that it is
/// recognised by its content, whatever file or copy it is loaded from.
const DEMO_PASS_CERT: &[u8] = include_bytes!("../../certs-example/pass-cert.pem");

/// Certificate, key and intermediate that sign every pass (and, later, authenticate to APNs).
pub struct SigningIdentity {
    pub cert: X509,
    pub key: PKey<Private>,
    /// The WWDR intermediate, included in every signature.
    pub chain: Stack<X509>,
    pub pass_type_identifier: String,
    pub team_identifier: String,
    /// Problems worth a warning at start (expiry within 30 days, demo certificates).
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningIdentity")
            .field("pass_type_identifier", &self.pass_type_identifier)
            .field("team_identifier", &self.team_identifier)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl SigningIdentity {
    /// Loads the configured files (PEM cert + key, or a .p12) and checks them.
    pub fn load(paths: &AppleCertPaths) -> Result<Self> {
        let (cert, key, p12_chain) = read_cert_and_key(paths)?;
        let wwdr = match &paths.wwdr {
            Some(path) => X509::from_pem(&read(path)?).with_context(|| format!("{}: not a PEM certificate", path.display()))?,
            // A .p12 exported with its chain may carry the intermediate.
            None => p12_chain
                .into_iter()
                .find(|ca| ca.issued(&cert) == X509VerifyResult::OK)
                .ok_or_else(|| anyhow!("PASSERELLE_APPLE_WWDR is required: the Apple WWDR G4 certificate (PEM) that issued the pass certificate"))?,
        };
        let mut identity = Self::from_parts(cert, key, wwdr)?;
        if paths.demo {
            identity.warnings.push(
                "using the demo certificates of certs-example/: passes install on no real iPhone; set PASSERELLE_APPLE_CERT".into(),
            );
        }
        Ok(identity)
    }

    /// Checks that the key matches, the WWDR issued the certificate, and the subject is a Pass Type ID.
    pub fn from_parts(cert: X509, key: PKey<Private>, wwdr: X509) -> Result<Self> {
        if !cert.public_key()?.public_eq(&key) {
            bail!("the private key does not belong to the pass certificate");
        }
        let wwdr_key = wwdr.public_key()?;
        if wwdr.issued(&cert) != X509VerifyResult::OK || !cert.verify(wwdr_key.as_ref())? {
            bail!(
                "the WWDR certificate ({}) did not issue the pass certificate (issuer {}); use the WWDR generation that issued it (G4 since 2022)",
                name(&wwdr, Nid::COMMONNAME).unwrap_or_default(),
                name_of(cert.issuer_name(), Nid::COMMONNAME).unwrap_or_default()
            );
        }
        let uid = name(&cert, Nid::USERID).ok_or_else(|| {
            anyhow!(
                "the pass certificate's subject has no UID (pass type identifier): is it a Pass Type ID certificate?"
            )
        })?;
        let cn = name(&cert, Nid::COMMONNAME).unwrap_or_default();
        if cn != format!("Pass Type ID: {uid}") && cn != format!("Pass Type ID with NFC: {uid}") {
            bail!("the pass certificate's CN is {cn:?}, expected \"Pass Type ID: {uid}\"");
        }
        let team = name(&cert, Nid::ORGANIZATIONALUNITNAME)
            .ok_or_else(|| anyhow!("the pass certificate's subject has no OU (team identifier)"))?;
        let mut warnings = Vec::new();
        check_expiry(&cert, "pass certificate", &mut warnings)?;
        check_expiry(&wwdr, "WWDR certificate", &mut warnings)?;
        let mut chain = Stack::new()?;
        chain.push(wwdr)?;
        Ok(Self { cert, key, chain, pass_type_identifier: uid, team_identifier: team, warnings })
    }

    /// Whether the pass certificate is the demo one of `certs-example/` (same SHA-256 fingerprint), whose private
    /// key is public. Only then does the server offer `GET /demo/passes/{template}`; any doubt counts as "not demo".
    pub fn is_demo(&self) -> bool {
        let fingerprint = |cert: &X509Ref| cert.digest(MessageDigest::sha256()).ok().map(|d| d.to_vec());
        let demo = X509::from_pem(DEMO_PASS_CERT).ok();
        match (demo.as_deref().and_then(fingerprint), fingerprint(&self.cert)) {
            (Some(demo), Some(ours)) => demo == ours,
            _ => false,
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

type CertAndKey = (X509, PKey<Private>, Vec<X509>);

fn read_cert_and_key(paths: &AppleCertPaths) -> Result<CertAndKey> {
    let bytes = read(&paths.cert)?;
    let password = paths.password.as_ref().map(Secret::expose).unwrap_or("");
    if !bytes.starts_with(b"-----") {
        return read_p12(&paths.cert, &bytes, password);
    }
    let cert = X509::from_pem(&bytes).with_context(|| format!("{}: not a PEM certificate", paths.cert.display()))?;
    let key_path =
        paths.key.as_ref().ok_or_else(|| anyhow!("PASSERELLE_APPLE_KEY is required with a PEM certificate"))?;
    let key_bytes = read(key_path)?;
    let key = match &paths.password {
        Some(pw) => PKey::private_key_from_pem_passphrase(&key_bytes, pw.expose().as_bytes()),
        None => PKey::private_key_from_pem(&key_bytes),
    }
    .with_context(|| {
        format!("{}: not a PEM private key, or wrong PASSERELLE_APPLE_KEY_PASSWORD", key_path.display())
    })?;
    Ok((cert, key, Vec::new()))
}

fn read_p12(path: &Path, bytes: &[u8], password: &str) -> Result<CertAndKey> {
    load_legacy_provider();
    let parsed = Pkcs12::from_der(bytes)
        .and_then(|p| p.parse2(password))
        .with_context(|| format!("{}: not a PKCS#12 file, or wrong PASSERELLE_APPLE_KEY_PASSWORD", path.display()))?;
    let cert = parsed.cert.ok_or_else(|| anyhow!("{}: holds no certificate", path.display()))?;
    let key = parsed.pkey.ok_or_else(|| anyhow!("{}: holds no private key", path.display()))?;
    Ok((cert, key, parsed.ca.map(|s| s.into_iter().collect()).unwrap_or_default()))
}

/// Keychain exports from older macOS use RC2-40, which OpenSSL 3 only reads with its legacy provider.
fn load_legacy_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| match openssl::provider::Provider::try_load(None, "legacy", true) {
        // Providers must stay loaded for the life of the process.
        Ok(p) => std::mem::forget(p),
        Err(e) => tracing::warn!("OpenSSL legacy provider unavailable ({e}); RC2-40 .p12 files will not load"),
    });
}

fn name(cert: &X509Ref, nid: Nid) -> Option<String> {
    name_of(cert.subject_name(), nid)
}

fn name_of(n: &openssl::x509::X509NameRef, nid: Nid) -> Option<String> {
    n.entries_by_nid(nid).next().and_then(|e| e.data().to_string().ok())
}

fn check_expiry(cert: &X509Ref, what: &str, warnings: &mut Vec<String>) -> Result<()> {
    let now = Asn1Time::days_from_now(0)?;
    let soon = Asn1Time::days_from_now(EXPIRY_WARNING_DAYS)?;
    let not_after = cert.not_after();
    if not_after < now {
        bail!("the {what} expired on {not_after}: Wallet refuses passes signed with it");
    }
    if cert.not_before() > now {
        bail!("the {what} is not valid before {}", cert.not_before());
    }
    if not_after < soon {
        warnings.push(format!("the {what} expires on {not_after}: renew it before then"));
    }
    Ok(())
}
