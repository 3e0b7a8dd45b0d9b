//! Start-up checks of the signing identity: PEM and .p12 (also legacy RC2-40), key match,
//! WWDR issuer, Pass Type ID subject, expiry.

use std::path::PathBuf;

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use passerelle::apple::{AppleCertPaths, SigningIdentity};
use passerelle::secret::Secret;

use crate::helpers::repo;

fn demo(name: &str) -> PathBuf {
    repo().join("certs-example").join(name)
}

fn paths(cert: &str, key: Option<&str>, wwdr: Option<&str>, password: Option<&str>) -> AppleCertPaths {
    AppleCertPaths {
        cert: demo(cert),
        key: key.map(demo),
        wwdr: wwdr.map(demo),
        password: password.map(Secret::new),
        demo: false,
    }
}

fn load_err(p: AppleCertPaths) -> String {
    format!("{:#}", SigningIdentity::load(&p).expect_err("must be refused"))
}

sync_test!(pem_identity_reads_uid_and_ou);
fn pem_identity_reads_uid_and_ou() {
    let id = SigningIdentity::load(&paths("pass-cert.pem", Some("pass-key.pem"), Some("wwdr.pem"), None)).unwrap();
    assert_eq!(id.pass_type_identifier, "pass.com.passerelle.demo");
    assert_eq!(id.team_identifier, "PASSDEMO42");
    assert!(id.warnings.is_empty(), "{:?}", id.warnings);
    assert!(!format!("{id:?}").contains("PRIVATE"), "the key never shows in Debug");
}

sync_test!(p12_files_load_including_legacy_rc2);
fn p12_files_load_including_legacy_rc2() {
    for file in ["pass.p12", "pass-legacy.p12"] {
        // The .p12 carries the WWDR in its chain, so PASSERELLE_APPLE_WWDR may be left unset.
        let id = SigningIdentity::load(&paths(file, None, None, Some("passerelle"))).unwrap();
        assert_eq!(id.pass_type_identifier, "pass.com.passerelle.demo", "{file}");
    }
    let err = load_err(paths("pass.p12", None, None, Some("wrong-password-123")));
    assert!(err.contains("wrong PASSERELLE_APPLE_KEY_PASSWORD"), "{err}");
    assert!(!err.contains("wrong-password-123"), "the password never appears in messages");
}

sync_test!(key_must_match_certificate);
fn key_must_match_certificate() {
    let err = load_err(paths("pass-cert.pem", Some("wwdr-key.pem"), Some("wwdr.pem"), None));
    assert!(err.contains("does not belong to the pass certificate"), "{err}");
}

sync_test!(wwdr_must_have_issued_the_certificate);
fn wwdr_must_have_issued_the_certificate() {
    let err = load_err(paths("pass-cert.pem", Some("pass-key.pem"), Some("root-ca.pem"), None));
    assert!(err.contains("did not issue the pass certificate"), "{err}");
}

sync_test!(certificate_must_be_a_pass_type_id);
fn certificate_must_be_a_pass_type_id() {
    let err = load_err(paths("wwdr.pem", Some("wwdr-key.pem"), Some("root-ca.pem"), None));
    assert!(err.contains("no UID"), "{err}");
}

/// A pass certificate signed by the demo WWDR, valid from `from` to `to` days from now.
pub fn pass_cert(from: i64, to: i64) -> (tempfile::TempDir, AppleCertPaths) {
    let wwdr = X509::from_pem(&std::fs::read(demo("wwdr.pem")).unwrap()).unwrap();
    let wwdr_key = PKey::private_key_from_pem(&std::fs::read(demo("wwdr-key.pem")).unwrap()).unwrap();
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("UID", "pass.com.passerelle.demo").unwrap();
    name.append_entry_by_text("CN", "Pass Type ID: pass.com.passerelle.demo").unwrap();
    name.append_entry_by_text("OU", "PASSDEMO42").unwrap();
    let name = name.build();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap()).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(wwdr.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::from_unix(now + from * 86_400).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::from_unix(now + to * 86_400).unwrap()).unwrap();
    b.sign(&wwdr_key, MessageDigest::sha256()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), b.build().to_pem().unwrap()).unwrap();
    std::fs::write(dir.path().join("key.pem"), key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let p = AppleCertPaths {
        cert: dir.path().join("cert.pem"),
        key: Some(dir.path().join("key.pem")),
        wwdr: Some(demo("wwdr.pem")),
        password: None,
        demo: false,
    };
    (dir, p)
}

sync_test!(expiry_within_30_days_warns_and_expired_refuses);
fn expiry_within_30_days_warns_and_expired_refuses() {
    let (_d, p) = pass_cert(-300, 10);
    let id = SigningIdentity::load(&p).unwrap();
    assert!(id.warnings.iter().any(|w| w.contains("pass certificate expires")), "{:?}", id.warnings);

    let (_d, p) = pass_cert(-300, 90);
    assert!(SigningIdentity::load(&p).unwrap().warnings.is_empty());

    let (_d, p) = pass_cert(-300, -1);
    assert!(load_err(p).contains("expired"));
}

sync_test!(the_demo_certificate_is_recognised_by_its_content);
fn the_demo_certificate_is_recognised_by_its_content() {
    let pem = paths("pass-cert.pem", Some("pass-key.pem"), Some("wwdr.pem"), None);
    assert!(SigningIdentity::load(&pem).unwrap().is_demo());
    for file in ["pass.p12", "pass-legacy.p12"] {
        assert!(SigningIdentity::load(&paths(file, None, None, Some("passerelle"))).unwrap().is_demo(), "{file}");
    }
    // A copy elsewhere is still the demo certificate.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(demo("pass-cert.pem"), dir.path().join("mine.pem")).unwrap();
    assert!(SigningIdentity::load(&AppleCertPaths { cert: dir.path().join("mine.pem"), ..pem }).unwrap().is_demo());
    // Same subject, same issuer, another certificate: not the demo one.
    let (_d, other) = pass_cert(-1, 365);
    let id = SigningIdentity::load(&other).unwrap();
    assert_eq!(id.pass_type_identifier, "pass.com.passerelle.demo");
    assert!(!id.is_demo());
}
