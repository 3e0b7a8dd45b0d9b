//! Shared test tools: a server on port 0, pass unpacking, and OpenSSL verification.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use passerelle::app::App;
use passerelle::config::Config;
use serde_json::Value;
use tokio::sync::oneshot;

/// The crate root: templates and demo certificates live there.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A configuration with the demo set and an OS-chosen port.
pub fn test_config() -> Config {
    let mut c = Config::defaults();
    c.templates.dir = repo().join("pass-templates");
    c.apple.cert = Some(repo().join("certs-example/pass-cert.pem"));
    c.apple.key = Some(repo().join("certs-example/pass-key.pem"));
    c.apple.wwdr = Some(repo().join("certs-example/wwdr.pem"));
    c.apple.key_password = None;
    c.http.public_url = None;
    c.http.listen = "127.0.0.1:0".parse().unwrap();
    c
}

/// The admin token every test server accepts.
pub const ADMIN: &str = "test-admin-token-0123456789";

/// Which database a test server uses.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A PostgreSQL server URL; each test gets its own schema there.
    Postgres(String),
}

impl Backend {
    /// PostgreSQL from `PASSERELLE_TEST_POSTGRES_URL`; without it the test fails (the runner
    /// ignores PostgreSQL tests when it is unset, unless they are asked for).
    pub fn postgres() -> Backend {
        Backend::Postgres(crate::harness::postgres_url())
    }

    /// A database URL for one test: a fresh SQLite file, or a fresh PostgreSQL schema.
    pub async fn database_url(&self, dir: &Path) -> String {
        match self {
            Backend::Sqlite => format!("sqlite://{}", dir.join("db/passerelle.db").display()),
            Backend::Postgres(url) => {
                use sqlx::Connection;
                let schema = format!("t_{}", passerelle::tokens::random_hex(8));
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connecting to the test PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await.unwrap();
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}options=-c%20search_path%3D{schema}")
            }
        }
    }
}

/// A running server; dropped, it shuts down.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`, where the server really listens.
    pub base_url: String,
    /// What passes carry as webServiceURL.
    pub public_url: String,
    pub client: reqwest::Client,
    /// The database this server uses.
    pub database_url: String,
    /// Where this server writes e-mails (no SMTP in tests).
    pub mail_dir: PathBuf,
    /// `http://…` of PASSERELLE_METRICS_LISTEN, when the test set it.
    pub metrics_url: Option<String>,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// An admin API request with the admin token.
    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(ADMIN)
    }

    /// Creates a pass through the admin API; returns the pass object.
    pub async fn create_pass(&self, template: &str, data: Value) -> Value {
        let resp = self
            .api(reqwest::Method::POST, "/api/v1/passes")
            .json(&serde_json::json!({"template": template, "data": data}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        resp.json().await.unwrap()
    }
}

/// Waits (up to 15 s) until no job of `kind` is pending or leased: every job queued so far has
/// been worked (delivered, given up or dead), so whatever it was going to send has been sent.
pub async fn wait_until_drained(app: &TestApp, kind: passerelle::store::JobKind) {
    let store = crate::campaigns::store_of(app).await;
    crate::push::eventually(&format!("the {} queue is drained", kind.as_str()), async || {
        let stats = store.queue_stats().await.unwrap().into_iter().find(|(k, _)| *k == kind).unwrap().1;
        stats.pending + stats.leased == 0
    })
    .await;
}

/// A migrated store on `backend` in `dir`, queuing Google syncs (so a creation's sync job is
/// seen to commit, or not, with it), without a server.
pub async fn open_store(backend: &Backend, dir: &Path) -> std::sync::Arc<dyn passerelle::store::Store> {
    let settings = passerelle::store::DbSettings {
        url: passerelle::secret::Secret::new(backend.database_url(dir).await),
        max_connections: 4,
        busy_timeout: std::time::Duration::from_secs(5),
        push_coalesce_ms: 0,
        google_enabled: true,
        google_first_sync_delay_ms: 0,
        webhooks_enabled: false,
        currency: "EUR".into(),
    };
    let store = passerelle::store::connect(&settings).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// A new pass of `template` (its example data) with this serial.
pub fn new_pass(template: &str, serial: &str) -> passerelle::store::NewPass {
    passerelle::store::NewPass {
        serial_number: serial.into(),
        template: template.into(),
        data: example(template),
        authentication_token: passerelle::tokens::authentication_token(),
        share_token: passerelle::tokens::serial_number(),
    }
}

/// Checks that the store holds exactly these passes, none voided, each with its one queued
/// Google sync: what a refused creation wrote besides was rolled back with it.
pub async fn assert_only_passes(store: &dyn passerelle::store::Store, serials: &[&str]) {
    let query = passerelle::store::PassQuery { limit: 100, ..Default::default() };
    let passes = store.list_passes(&query).await.unwrap();
    let stored: Vec<&str> = passes.iter().map(|p| p.serial_number.as_str()).collect();
    assert_eq!(stored, serials, "no pass of a refused creation is stored");
    assert!(passes.iter().all(|p| !p.voided), "no pass was voided after the fact");
    let stats = store.queue_stats().await.unwrap();
    let google = stats.iter().find(|(k, _)| *k == passerelle::store::JobKind::Google).unwrap().1.clone();
    assert_eq!(google.pending, serials.len() as i64, "one Google sync per stored pass, none for the refused");
}

/// Example data of a demo template.
pub fn example(template: &str) -> Value {
    let path = repo().join("pass-templates").join(template).join("example.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Starts the real server on 127.0.0.1:0 with a fresh SQLite database.
pub async fn spawn_app(config: Config) -> TestApp {
    spawn_app_on(Backend::Sqlite, config).await
}

/// Starts the real server on 127.0.0.1:0 with a fresh database of `backend`.
pub async fn spawn_app_on(backend: Backend, mut config: Config) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    config.database.url = passerelle::secret::Secret::new(backend.database_url(dir.path()).await);
    start(config, dir).await
}

/// Starts the real server on the database `config` already names.
pub async fn spawn_app_on_existing(config: Config) -> TestApp {
    start(config, tempfile::tempdir().unwrap()).await
}

async fn start(mut config: Config, dir: tempfile::TempDir) -> TestApp {
    let database_url = config.database.url.expose().to_owned();
    config.mail.dir = dir.path().join("mail");
    let mail_dir = config.mail.dir.clone();
    config.http.admin_token = Some(passerelle::secret::Secret::new(ADMIN));
    // The server runs on its own thread and runtime, as in production: a test that blocks its
    // own thread (a command-line run, openssl) never stalls the server mid-transaction.
    let (ready_tx, ready_rx) = oneshot::channel();
    let (tx, rx) = oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let app = match App::build(config).await {
                Ok(app) => app,
                Err(e) => return drop(ready_tx.send(Err(format!("{e:#}")))),
            };
            let addresses = (
                format!("http://{}", app.local_addr()),
                app.public_url().to_owned(),
                app.metrics_addr().map(|a| format!("http://{a}")),
            );
            let _ = ready_tx.send(Ok(addresses));
            let _ = app
                .run(async {
                    let _ = rx.await;
                })
                .await;
        });
    });
    let (base_url, public_url, metrics_url) =
        ready_rx.await.expect("the server thread answers").unwrap_or_else(|e| panic!("app builds: {e}"));
    let client = reqwest::Client::new();
    TestApp { base_url, public_url, client, database_url, mail_dir, metrics_url, _stop: tx, _dir: dir }
}

/// A .pkpass unpacked into a temporary folder.
pub struct Unpacked {
    pub dir: tempfile::TempDir,
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Unpacked {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn json(&self, name: &str) -> Value {
        serde_json::from_slice(&self.files[name]).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
    }
}

/// Unzips a .pkpass (failing the test if it is not a valid zip).
pub fn unpack(pkpass: &[u8]) -> Unpacked {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(pkpass)).expect("the .pkpass is a zip");
    let dir = tempfile::tempdir().unwrap();
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().to_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
        let path = dir.path().join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        files.insert(name, bytes);
    }
    Unpacked { dir, files }
}

/// Runs a command and returns (success, stdout + stderr).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Checks a pass the way Wallet does, with outside tools: manifest vs `sha1sum`,
/// `openssl cms -verify` against the demo root, signingTime and both certificates.
pub fn assert_valid_pass(pkpass: &[u8]) -> Unpacked {
    let u = unpack(pkpass);
    for required in ["pass.json", "manifest.json", "signature", "icon.png"] {
        assert!(u.files.contains_key(required), "{required} missing from the pass");
    }
    let manifest = u.json("manifest.json");
    let manifest = manifest.as_object().expect("manifest is an object");
    let listed: Vec<&String> = manifest.keys().collect();
    let expected: Vec<&String> = u.files.keys().filter(|n| *n != "manifest.json" && *n != "signature").collect();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, expected, "the manifest lists every file but manifest.json and signature");
    for (name, hash) in manifest {
        let (ok, out) = run(Command::new("sha1sum").arg(u.path(name)));
        assert!(ok, "sha1sum failed: {out}");
        assert_eq!(out.split_whitespace().next(), hash.as_str(), "SHA-1 of {name}");
    }
    assert_signature_verifies(u.dir.path());
    u
}

/// `openssl cms -verify` of `signature` over `manifest.json` in `dir`, and the attributes Wallet needs.
pub fn assert_signature_verifies(dir: &Path) {
    let (ok, out) = run(Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-out", "/dev/null"])
        .arg("-in")
        .arg(dir.join("signature"))
        .arg("-content")
        .arg(dir.join("manifest.json"))
        .arg("-CAfile")
        .arg(repo().join("certs-example/root-ca.pem")));
    assert!(ok && out.contains("Verification successful"), "openssl cms -verify failed: {out}");
    let (ok, printed) = run(Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(dir.join("signature")));
    assert!(ok, "openssl cms -cmsout -print failed: {printed}");
    assert!(printed.contains("signingTime"), "no signingTime attribute:\n{printed}");
    assert!(printed.contains("CN=Pass Type ID: pass.com.passerelle.demo"), "no pass certificate in the signature");
    assert!(printed.contains("CN=Demo Worldwide Developer Relations Certification Authority"), "no WWDR certificate");
}

/// The keys every pass.json must have, with Apple's types.
pub fn assert_pass_json_complete(pass: &Value) {
    assert_eq!(pass["formatVersion"], 1);
    for key in [
        "passTypeIdentifier",
        "teamIdentifier",
        "serialNumber",
        "organizationName",
        "description",
        "authenticationToken",
        "webServiceURL",
    ] {
        assert!(pass[key].as_str().is_some_and(|s| !s.is_empty()), "{key} must be a non-empty string: {pass}");
    }
    assert_eq!(pass["passTypeIdentifier"], "pass.com.passerelle.demo");
    assert_eq!(pass["teamIdentifier"], "PASSDEMO42");
    assert!(pass["authenticationToken"].as_str().unwrap().len() >= 16);
    let styles = ["boardingPass", "coupon", "eventTicket", "generic", "storeCard"];
    assert_eq!(styles.iter().filter(|s| pass.get(**s).is_some()).count(), 1, "exactly one style");
}

/// Adds a store (with the HQ key): members, receipts, orders and points name existing stores.
pub async fn add_store(app: &TestApp, id: &str, timezone: &str) {
    let body = serde_json::json!({"id": id, "name": id, "latitude": 48.85, "longitude": 2.35, "timezone": timezone});
    let resp = app.api(reqwest::Method::POST, "/api/v1/stores").json(&body).send().await.unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::CREATED, "{}", resp.text().await.unwrap_or_default());
}

/// Runs one statement on the test server's database (to move a clock the server reads, as
/// time would).
pub async fn execute_sql(database_url: &str, sql: &str) {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if database_url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}
