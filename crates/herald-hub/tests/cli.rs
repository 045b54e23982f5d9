//! The `herald-hub` command line, run as a process against a data directory.

use std::process::Command;

fn hub(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald-hub")).args(args).arg("--data").arg(data).output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn users_roles_organisations_and_follows_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (ok, token, _) = hub(data, &["user", "add", "ann"]);
    assert!(ok);
    assert!(token.trim().starts_with("hrld_"), "prints the new token: {token}");
    assert!(hub(data, &["user", "add", "bob"]).0);
    assert!(hub(data, &["role", "grant", "finance", "ann"]).0);
    assert!(hub(data, &["role", "grant", "ops", "ann"]).0);
    assert!(hub(data, &["org", "add-member", "acme", "bob"]).0);
    assert!(hub(data, &["follow", "bob", "--type", "blog.post", "--id", "42"]).0);

    let (_, listed, _) = hub(data, &["user", "list"]);
    assert_eq!(listed, "ann\troles: finance,ops\torganizations: \nbob\troles: \torganizations: acme\n");

    let (ok, _, err) = hub(data, &["role", "grant", "finance", "zed"]);
    assert!(!ok, "granting a role to nobody fails");
    assert!(err.contains("zed"), "and says who is missing: {err}");
    let (ok, _, err) = hub(data, &["user", "add", "ann"]);
    assert!(!ok && err.contains("already exists"), "{err}");

    let (ok, app, _) = hub(data, &["token", "add", "--app", "erp", "--callback", "https://erp.example/cb"]);
    assert!(ok && app.trim().starts_with("hrld_") && app.trim() != token.trim());
    let (ok, admin, _) = hub(data, &["token", "add", "--admin"]);
    assert!(ok && admin.trim().starts_with("hrld_"));
    assert!(!hub(data, &["token", "add"]).0, "an app name or --admin is required");

    assert!(hub(data, &["role", "revoke", "ops", "ann"]).0);
    assert!(hub(data, &["user", "remove", "bob"]).0);
    let (_, listed, _) = hub(data, &["user", "list"]);
    assert_eq!(listed, "ann\troles: finance\torganizations: \n");
}
