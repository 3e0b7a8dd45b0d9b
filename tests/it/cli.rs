//! The command line: `pass build` without a server, `templates check` exit status.

use std::process::Command;

use crate::helpers::{assert_pass_json_complete, assert_valid_pass, repo, run};

fn passerelle() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_passerelle"));
    c.current_dir(repo());
    for var in [
        "PASSERELLE_APPLE_CERT",
        "PASSERELLE_APPLE_KEY",
        "PASSERELLE_APPLE_WWDR",
        "PASSERELLE_PUBLIC_URL",
        "PASSERELLE_TEMPLATES_DIR",
    ] {
        c.env_remove(var);
    }
    c
}

sync_test!(pass_build_writes_a_signed_pass);
fn pass_build_writes_a_signed_pass() {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("card.pkpass");
    let (ok, text) = run(passerelle()
        .args([
            "pass",
            "build",
            "--template",
            "loyalty",
            "--data",
            "pass-templates/loyalty/example.json",
            "--serial",
            "CARD-0001",
            "-o",
        ])
        .arg(&file));
    assert!(ok, "{text}");
    assert!(text.contains("demo certificates"), "using the demo set is announced: {text}");
    let pass = assert_valid_pass(&std::fs::read(&file).unwrap()).json("pass.json");
    assert_pass_json_complete(&pass);
    assert_eq!(pass["serialNumber"], "CARD-0001");
    assert_eq!(pass["webServiceURL"], "http://127.0.0.1:8080", "defaults to the listen address");
}

sync_test!(pass_build_refuses_data_that_does_not_fit);
fn pass_build_refuses_data_that_does_not_fit() {
    let out = tempfile::tempdir().unwrap();
    let data = out.path().join("data.json");
    std::fs::write(&data, r#"{"card_number": "X1", "member_name": "Ana", "points": "many"}"#).unwrap();
    let (ok, text) =
        run(passerelle().args(["pass", "build", "--template", "loyalty", "-o", "x.pkpass", "--data"]).arg(&data));
    assert!(!ok);
    assert!(text.contains("points: must be an integer, got a string"), "{text}");

    std::fs::write(&data, r#"{"member_name": "Ana"}"#).unwrap();
    let (ok, text) =
        run(passerelle().args(["pass", "build", "--template", "loyalty", "-o", "x.pkpass", "--data"]).arg(&data));
    assert!(!ok);
    assert!(text.contains("card_number: is required"), "{text}");
    assert!(!repo().join("x.pkpass").exists());
}

sync_test!(templates_check_exit_status);
fn templates_check_exit_status() {
    let (ok, text) = run(passerelle().args(["templates", "check"]));
    assert!(ok, "{text}");
    assert!(text.contains("4 template(s) valid"), "{text}");

    let broken = tempfile::tempdir().unwrap();
    let dir = broken.path().join("bad");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("template.toml"), "kind = \"loyalty\"\nname = \"x\"\n").unwrap();
    std::fs::write(dir.join("pass.json"), "{}").unwrap();
    let (ok, text) = run(passerelle().args(["templates", "check", "--templates-dir"]).arg(broken.path()));
    assert!(!ok, "a broken template makes the check fail");
    assert!(text.contains("template.toml: roles.card_number"), "{text}");
    assert!(text.contains("pass.json: (root): needs exactly one style key"), "{text}");
    assert!(text.contains("icon.png: is required"), "{text}");
}

sync_test!(help_documents_every_variable);
fn help_documents_every_variable() {
    use clap::CommandFactory;
    let (ok, text) = run(passerelle().arg("--help"));
    assert!(ok);
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let env = std::fs::read_to_string(repo().join(".env.example")).unwrap();
    let vars: Vec<String> = passerelle::config::Cli::command()
        .get_arguments()
        .filter_map(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()))
        .collect();
    assert!(vars.len() >= 15, "{vars:?}");
    for var in vars {
        assert!(var.starts_with("PASSERELLE_"), "{var}");
        assert!(text.contains(&var), "--help does not mention {var}");
        assert!(readme.contains(&var) && env.contains(&var), "{var} undocumented in README.md or .env.example");
    }
}

sync_test!(serve_refuses_an_smtp_password_in_clear_text);
fn serve_refuses_an_smtp_password_in_clear_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = passerelle()
        .arg("serve")
        .env("PASSERELLE_LISTEN", "127.0.0.1:0")
        .env("PASSERELLE_DATABASE_URL", format!("sqlite://{}", dir.path().join("db.sqlite").display()))
        .env("PASSERELLE_MAIL_DIR", dir.path().join("mail"))
        .env("PASSERELLE_BACKGROUND", "off")
        .env("PASSERELLE_SMTP_URL", "smtp://shop:s3cret-pw@smtp.example.com:587")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the server started with an SMTP password sent in clear text");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("PASSERELLE_SMTP_URL") && text.contains("tls=required"), "{text}");
    assert!(!text.contains("s3cret-pw"), "the password is never printed: {text}");
}
