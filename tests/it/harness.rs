//! The runner of the `it` binary (`harness = false`, built on libtest-mimic). Each test registers
//! itself with one line beside its function:
//!
//! ```text
//! sync_test!(a_url_without_secret_is_refused);     // fn name()                  (was #[test])
//! async_test!(healthz_answers);                    // async fn name()            (was #[tokio::test])
//! browser_test!(the_me_page_renders_in_chromium);  // async fn name(), needs Chromium and chromedriver
//! postgres_test!(segments_on_postgres);            // async fn name(url: String), needs PostgreSQL
//! on_both_backends!(create_and_read, api_keys);    // async fn name(backend: Backend): `name::sqlite`
//!                                                  // and `name::postgres`, on two worker threads
//! ```
//!
//! What a test needs is decided when the binary starts: without `PASSERELLE_TEST_POSTGRES_URL`
//! the PostgreSQL tests show as ignored, and so do the browser tests without chromium and
//! chromedriver; `cargo test -- --ignored` lists or runs just those. With
//! `PASSERELLE_TEST_REQUIRE_POSTGRES=1` or `PASSERELLE_TEST_REQUIRE_BROWSER=1` (as in CI) they are
//! not ignored: they run, and fail saying what is missing.
//!
//! libtest-mimic does not capture output: `--nocapture` is accepted and changes nothing.

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};

/// What an async test function returns, boxed.
pub type TestFuture = Pin<Box<dyn Future<Output = ()> + 'static>>;

pub fn boxed(test: impl Future<Output = ()> + 'static) -> TestFuture {
    Box::pin(test)
}

/// How a test runs.
pub enum Body {
    /// A plain function, as `#[test]`.
    Sync(fn()),
    /// On a current-thread tokio runtime, as `#[tokio::test]`.
    CurrentThread(fn() -> TestFuture),
    /// On a tokio runtime with two worker threads, as
    /// `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`.
    MultiThread(fn() -> TestFuture),
}

/// What a test needs besides the crate and the commands every test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    /// A PostgreSQL server, named by `PASSERELLE_TEST_POSTGRES_URL`.
    Postgres,
    /// Debian's chromium and chromedriver.
    Browser,
}

/// A registered test; the macros below make them.
pub struct Test {
    /// `module_path!()` where it was registered.
    pub module: &'static str,
    pub name: &'static str,
    pub needs: Needs,
    pub body: Body,
}

inventory::collect!(Test);

impl Test {
    /// `campaigns::caps_and_quiet_hours_hold_across_campaigns::sqlite`: the module path without
    /// the crate's name, then the function, as libtest names tests.
    pub fn full_name(&self) -> String {
        match self.module.split_once("::") {
            Some((_, module)) => format!("{module}::{}", self.name),
            None => self.name.to_owned(),
        }
    }

    /// Runs the test in a thread named after it (panic messages then say which test panicked).
    fn run(&'static self) -> Result<(), Failed> {
        let thread = std::thread::Builder::new()
            .name(self.full_name())
            .spawn(move || match self.body {
                Body::Sync(test) => test(),
                Body::CurrentThread(test) => {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                    runtime.expect("a tokio runtime").block_on(test());
                }
                Body::MultiThread(test) => {
                    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
                    runtime.expect("a tokio runtime").block_on(test());
                }
            })
            .map_err(|e| format!("cannot start the test's thread: {e}"))?;
        thread.join().map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            Failed::from(format!("test panicked: {message}"))
        })
    }
}

/// What this machine has, read once when the binary starts.
struct Here {
    postgres: bool,
    require_postgres: bool,
    browser: bool,
    require_browser: bool,
}

impl Here {
    fn detect() -> Here {
        let flag = |name: &str| std::env::var(name).as_deref() == Ok("1");
        Here {
            postgres: std::env::var("PASSERELLE_TEST_POSTGRES_URL").is_ok_and(|url| !url.is_empty()),
            require_postgres: flag("PASSERELLE_TEST_REQUIRE_POSTGRES"),
            browser: crate::browser::binaries().is_some(),
            require_browser: flag("PASSERELLE_TEST_REQUIRE_BROWSER"),
        }
    }

    /// Whether a test needing `needs` is ignored here.
    fn lacks(&self, needs: Needs) -> bool {
        match needs {
            Needs::Nothing => false,
            Needs::Postgres => !self.postgres && !self.require_postgres,
            Needs::Browser => !self.browser && !self.require_browser,
        }
    }
}

/// The PostgreSQL URL for a test; panics (failing the test) when there is none.
pub fn postgres_url() -> String {
    match std::env::var("PASSERELLE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("PASSERELLE_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") => panic!(
            "PASSERELLE_TEST_REQUIRE_POSTGRES=1 but PASSERELLE_TEST_POSTGRES_URL is unset: \
             set it to a PostgreSQL database the tests may create schemas in"
        ),
        _ => panic!("PASSERELLE_TEST_POSTGRES_URL is unset: this PostgreSQL test cannot run without it"),
    }
}

pub fn main() -> ExitCode {
    let args = Arguments::from_args();
    let here = Here::detect();
    let mut tests: Vec<&'static Test> = inventory::iter::<Test>.into_iter().collect();
    tests.sort_by_key(|t| t.full_name());
    let trials: Vec<(Needs, Trial)> = tests
        .into_iter()
        .map(|t| (t.needs, Trial::test(t.full_name(), move || t.run()).with_ignored_flag(here.lacks(t.needs))))
        .collect();
    // (With --ignored or --include-ignored they run, and fail saying what is missing.)
    if !args.list && !args.ignored && !args.include_ignored {
        let ignored = |needs| {
            let selected = |trial: &Trial| trial.has_ignored_flag() && !args.is_filtered_out(trial);
            trials.iter().filter(|(n, trial)| *n == needs && selected(trial)).count()
        };
        match ignored(Needs::Postgres) {
            0 => {}
            n => eprintln!("note: {n} PostgreSQL tests are ignored: set PASSERELLE_TEST_POSTGRES_URL to run them"),
        }
        match ignored(Needs::Browser) {
            0 => {}
            n => eprintln!("note: {n} browser tests are ignored: install chromium and chromium-driver to run them"),
        }
    }
    libtest_mimic::run(&args, trials.into_iter().map(|(_, trial)| trial).collect()).exit_code()
}

/// Registers a test: `register_test!(name, Needs variant, Body)`; the macros below use it.
#[doc(hidden)]
#[macro_export]
macro_rules! register_test {
    ($name:expr, $needs:ident, $body:expr) => {
        ::inventory::submit! {
            $crate::harness::Test {
                module: ::std::module_path!(),
                name: $name,
                needs: $crate::harness::Needs::$needs,
                body: $body,
            }
        }
    };
}

/// `fn name()`, as `#[test]`.
#[macro_export]
macro_rules! sync_test {
    ($name:ident) => {
        $crate::register_test!(::std::stringify!($name), Nothing, $crate::harness::Body::Sync($name));
    };
}

/// `async fn name()` on a current-thread runtime, as `#[tokio::test]`.
#[macro_export]
macro_rules! async_test {
    ($name:ident) => {
        $crate::register_test!(
            ::std::stringify!($name),
            Nothing,
            $crate::harness::Body::CurrentThread(|| $crate::harness::boxed($name()))
        );
    };
}

/// `async fn name()` driving Chromium (see `browser.rs`), on a current-thread runtime.
#[macro_export]
macro_rules! browser_test {
    ($name:ident) => {
        $crate::register_test!(
            ::std::stringify!($name),
            Browser,
            $crate::harness::Body::CurrentThread(|| $crate::harness::boxed($name()))
        );
    };
}

/// `async fn name(url: String)` given the PostgreSQL server's URL, on a current-thread runtime.
#[macro_export]
macro_rules! postgres_test {
    ($name:ident) => {
        $crate::register_test!(
            ::std::stringify!($name),
            Postgres,
            $crate::harness::Body::CurrentThread(|| $crate::harness::boxed($name($crate::harness::postgres_url())))
        );
    };
}

/// Generates the tests `name::sqlite` and `name::postgres` from one `async fn name(backend: Backend)`,
/// each on a runtime with two worker threads.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            $crate::register_test!(
                "sqlite",
                Nothing,
                $crate::harness::Body::MultiThread(|| {
                    $crate::harness::boxed(super::$name($crate::helpers::Backend::Sqlite))
                })
            );
            $crate::register_test!(
                "postgres",
                Postgres,
                $crate::harness::Body::MultiThread(|| {
                    $crate::harness::boxed(super::$name($crate::helpers::Backend::postgres()))
                })
            );
        }
    )*};
}

/// With `harness = false`, a `#[test]` or `#[tokio::test]` function in this binary would silently
/// never run: every test must be registered with the macros above.
fn every_test_is_registered() {
    let dir = crate::helpers::repo().join("tests/it");
    let mut stray = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if line.starts_with("#[test]") || line.starts_with("#[tokio::test") {
                stray.push(format!("{}:{}: {line}", path.display(), n + 1));
            }
        }
    }
    assert!(stray.is_empty(), "attributes this runner ignores (use the harness macros):\n{}", stray.join("\n"));
}
crate::sync_test!(every_test_is_registered);
