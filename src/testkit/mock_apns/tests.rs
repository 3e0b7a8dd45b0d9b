//! Unit tests of the mock APNs server: validation, scripted answers, client certificates, dropped connections and
//! stream limits, driven by a real HTTP/2 + TLS client.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use http_body_util::BodyExt;
use hyper::client::conn::http2::SendRequest;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::x509::{X509Builder, X509NameBuilder};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::{PrivatePkcs8KeyDer, ServerName};

use super::*;

const TOPIC: &str = "pass.com.passerelle.demo";
const TOKEN: &str = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0";

type Sender = SendRequest<Full<Bytes>>;

fn certs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("certs-example")
}

fn pem_certs(name: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(certs().join(name)).unwrap().map(Result::unwrap).collect()
}

/// The demo pass certificate + WWDR intermediate, as a pass server sends them.
fn pass_identity() -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let mut chain = pem_certs("pass-cert.pem");
    chain.extend(pem_certs("wwdr.pem"));
    (chain, PrivateKeyDer::from_pem_file(certs().join("pass-key.pem")).unwrap())
}

/// A self-signed certificate with the right UID, chained to nothing the mock trusts.
fn self_signed_identity() -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let key =
        PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::USERID, TOPIC).unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, "Impostor").unwrap();
    let name = name.build();
    let mut cert = X509Builder::new().unwrap();
    cert.set_version(2).unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&key).unwrap();
    cert.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap()).unwrap();
    cert.set_not_after(&openssl::asn1::Asn1Time::days_from_now(30).unwrap()).unwrap();
    cert.sign(&key, MessageDigest::sha256()).unwrap();
    let der = CertificateDer::from(cert.build().to_der().unwrap());
    (vec![der], PrivatePkcs8KeyDer::from(key.private_key_to_pkcs8().unwrap()).into())
}

async fn connect(
    mock: &MockApns,
    (chain, key): (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
) -> anyhow::Result<Sender> {
    let mut roots = RootCertStore::empty();
    roots.add(pem_certs("root-ca.pem").remove(0))?;
    let mut config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = TcpStream::connect(mock.addr).await?;
    let server_name = ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into());
    let tls = TlsConnector::from(Arc::new(config)).connect(server_name, tcp).await?;
    let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

async fn send(
    sender: &mut Sender,
    mock: &MockApns,
    token: &str,
    topic: &str,
    priority: &str,
    body: &'static str,
) -> anyhow::Result<(u16, String)> {
    let request = Request::post(format!("{}/3/device/{token}", mock.url()))
        .header("apns-topic", topic)
        .header("apns-push-type", "background")
        .header("apns-priority", priority)
        .body(Full::new(Bytes::from_static(body.as_bytes())))?;
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    if status == 200 {
        assert_eq!(response.headers()["apns-id"].len(), 36);
    }
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8(body.to_vec())?))
}

async fn push(sender: &mut Sender, mock: &MockApns) -> anyhow::Result<(u16, String)> {
    send(sender, mock, TOKEN, TOPIC, "5", "{}").await
}

async fn eventually(what: impl Fn() -> bool) {
    for _ in 0..200 {
        if what() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("condition not reached within 1 s");
}

#[tokio::test]
async fn validates_records_and_scripts_answers() {
    let mock = MockApns::start(&certs(), MockApnsConfig::default()).await.unwrap();
    let mut c = connect(&mock, pass_identity()).await.unwrap();

    assert_eq!(push(&mut c, &mock).await.unwrap(), (200, String::new()));
    assert_eq!(send(&mut c, &mock, TOKEN, TOPIC, "5", " { } ").await.unwrap().0, 200);
    let received = mock.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0],
        Received {
            token: TOKEN.into(),
            topic: TOPIC.into(),
            push_type: "background".into(),
            priority: "5".into(),
            body: b"{}".to_vec(),
            client_uid: TOPIC.into(),
        }
    );

    let reason = |r: &str| format!(r#"{{"reason":"{r}"}}"#);
    assert_eq!(send(&mut c, &mock, TOKEN, "pass.other", "5", "{}").await.unwrap(), (400, reason("TopicDisallowed")));
    assert_eq!(send(&mut c, &mock, "xyz", TOPIC, "5", "{}").await.unwrap(), (400, reason("BadDeviceToken")));
    assert_eq!(send(&mut c, &mock, TOKEN, TOPIC, "10", "{}").await.unwrap(), (400, reason("BadPriority")));
    assert_eq!(send(&mut c, &mock, TOKEN, TOPIC, "5", "").await.unwrap(), (400, reason("PayloadEmpty")));
    assert_eq!(send(&mut c, &mock, TOKEN, TOPIC, "5", r#"{"aps":{}}"#).await.unwrap().0, 400);

    mock.answer_next(1, 410, "Unregistered");
    mock.answer_next(2, 429, "TooManyRequests");
    let (status, body) = push(&mut c, &mock).await.unwrap();
    assert_eq!(status, 410);
    assert!(body.starts_with(r#"{"reason":"Unregistered","timestamp":"#), "{body}");
    assert_eq!(push(&mut c, &mock).await.unwrap(), (429, reason("TooManyRequests")));
    assert_eq!(push(&mut c, &mock).await.unwrap().0, 429);
    mock.answer_token("abcdef", 400, "BadDeviceToken");
    assert_eq!(send(&mut c, &mock, "abcdef", TOPIC, "5", "{}").await.unwrap(), (400, reason("BadDeviceToken")));
    assert_eq!(push(&mut c, &mock).await.unwrap().0, 200);

    assert_eq!((mock.received_count(), mock.requests_total(), mock.connections()), (3, 12, 1));
    assert_eq!(mock.max_in_flight(), 1);
    mock.shutdown().await;
}

#[tokio::test]
async fn rejects_untrusted_clients_and_drops_connections() {
    let mock = MockApns::start(&certs(), MockApnsConfig::default()).await.unwrap();

    let untrusted = async {
        let mut c = connect(&mock, self_signed_identity()).await?;
        push(&mut c, &mock).await
    };
    assert!(untrusted.await.is_err());
    eventually(|| mock.rejected_handshakes() == 1).await;
    assert_eq!((mock.connections(), mock.requests_total()), (0, 0));

    let mut c = connect(&mock, pass_identity()).await.unwrap();
    mock.drop_next_connection();
    assert!(push(&mut c, &mock).await.is_err());
    eventually(|| mock.shared.in_flight.load(Relaxed) == 0).await;
    let mut c = connect(&mock, pass_identity()).await.unwrap();
    assert_eq!(push(&mut c, &mock).await.unwrap().0, 200);
    assert_eq!((mock.connections(), mock.requests_total(), mock.received_count()), (2, 2, 1));
}

#[tokio::test]
async fn counts_concurrent_requests() {
    let config =
        MockApnsConfig { max_concurrent_streams: 4, response_delay: Duration::from_millis(50), keep_received: true };
    let mock = Arc::new(MockApns::start(&certs(), config).await.unwrap());
    let mut c = connect(&mock, pass_identity()).await.unwrap();
    // Until the server's SETTINGS arrive the client assumes no stream limit, and the server refuses extra streams
    // (REFUSED_STREAM, safe to retry). One request first makes sure the limit is known.
    assert_eq!(push(&mut c, &mock).await.unwrap().0, 200);
    let mut pushes = JoinSet::new();
    for _ in 0..10 {
        let (mut c, mock) = (c.clone(), mock.clone());
        pushes.spawn(async move { push(&mut c, &mock).await.unwrap().0 });
    }
    assert_eq!(pushes.join_all().await, [200; 10]);
    assert_eq!(mock.max_in_flight(), 4);
    assert_eq!(mock.max_in_flight_per_connection(), 4);
}
