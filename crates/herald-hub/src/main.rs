//! `herald-hub`: serve the API, manage users, or post demo traffic.

mod demo;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use herald_hub::store::ObjectRef;
use herald_hub::Store;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "herald-hub", version, about = "Herald's notification server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start: the size of `Serve` costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and the WebSocket feed.
    Serve {
        /// Address to listen on; port 0 picks a free port (the chosen address is printed).
        #[arg(long, env = "HERALD_HUB_LISTEN", default_value = "127.0.0.1:8470")]
        listen: SocketAddr,
        /// Directory of the hub's SQLite database; created if missing.
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
        /// Seconds between keepalive pings on each feed.
        #[arg(long, env = "HERALD_HUB_PING_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        ping_seconds: u64,
        /// Requests per second each token may make (0: unlimited); bursts of up to 2 s worth.
        #[arg(long, env = "HERALD_HUB_RATE_LIMIT", default_value_t = 100)]
        rate_limit: u32,
        /// The notification types file (see config/types.toml); the built-in copy if absent.
        #[arg(long, env = "HERALD_HUB_TYPES")]
        types: Option<PathBuf>,
        /// The ingest templates file (see config/ingest.toml), re-read when it changes; the
        /// built-in copy if absent.
        #[arg(long, env = "HERALD_HUB_INGEST")]
        ingest: Option<PathBuf>,
        /// Largest request body accepted, in bytes (413 above it).
        #[arg(long, env = "HERALD_HUB_MAX_BODY_BYTES", default_value_t = herald_proto::MAX_BODY_BYTES)]
        max_body_bytes: usize,
        /// Serve HTTPS and WSS with this PEM certificate chain (leaf first); needs --tls-key.
        #[arg(long, env = "HERALD_HUB_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, env = "HERALD_HUB_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Most writes committed together (1 turns group commit off; benchmarks compare).
        #[arg(long, env = "HERALD_HUB_WRITE_GROUP", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        write_group: u32,
        /// Let app tokens made through the admin API have callback URLs with credentials or at
        /// link-local and cloud metadata addresses (refused by default).
        #[arg(long, env = "HERALD_HUB_ALLOW_PRIVATE_CALLBACKS")]
        allow_private_callbacks: bool,
        /// Send mail through this SMTP server: smtp://host:port (a local relay, no TLS),
        /// smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465. Without it no mail
        /// is sent. Needs --public-url.
        #[arg(long, env = "HERALD_HUB_SMTP", requires = "public_url")]
        smtp: Option<String>,
        /// PEM certificates to trust for the SMTP server's TLS besides the system's (a relay
        /// with a certificate from the organisation's own CA).
        #[arg(long, env = "HERALD_HUB_SMTP_CA", requires = "smtp")]
        smtp_ca: Option<PathBuf>,
        /// The From: of every mail; "Herald <herald@HOST>" (the --public-url host) if absent.
        #[arg(long, env = "HERALD_HUB_MAIL_FROM", requires = "smtp")]
        mail_from: Option<String>,
        /// Where people reach this hub's web inbox (https://hub.example.org): the base of every
        /// link in mail.
        #[arg(long, env = "HERALD_HUB_PUBLIC_URL")]
        public_url: Option<String>,
        /// The hour (0–23) of the daily digest, in each user's time zone.
        #[arg(long, env = "HERALD_HUB_DIGEST_HOUR", default_value_t = 8)]
        digest_hour: u8,
        /// The organisation's time zone (IANA, e.g. Europe/Berlin): the digest hour's zone for
        /// users who set none with their quiet hours.
        #[arg(long, env = "HERALD_HUB_TIMEZONE", default_value = "UTC")]
        timezone: String,
    },
    /// The daily email digest.
    Digest {
        #[command(subcommand)]
        command: DigestCommand,
    },
    /// Post a realistic notification to USER every few seconds through a running hub's HTTP API.
    Demo {
        /// Base URL of the running hub.
        #[arg(long, env = "HERALD_SERVER")]
        server: String,
        /// Bearer token of the sending system.
        #[arg(long, env = "HERALD_DEMO_TOKEN")]
        token: String,
        /// Recipient's user name.
        #[arg(long)]
        to: String,
        /// Seconds between notifications.
        #[arg(long, default_value_t = 6)]
        every: u64,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Make tokens for apps (business systems) and admins.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Give users roles (an audience: `{"to": {"role": ROLE}}`).
    Role {
        #[command(subcommand)]
        command: RoleCommand,
    },
    /// Put users in organisations (an audience: `{"to": {"organization": ORG}}`).
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Make USER follow an object (an audience: `{"to": {"followers_of": {"type", "id"}}}`).
    Follow {
        user: String,
        #[arg(long = "type")]
        kind: String,
        #[arg(long)]
        id: String,
        /// Stop following instead.
        #[arg(long)]
        stop: bool,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
    /// Make a private CA and a certificate from it for this hub: writes ca.pem (give it to the
    /// desktops as HERALD_CA_FILE), hub.pem and hub.key (serve --tls-cert / --tls-key).
    TlsInit {
        /// Where to write the three files.
        #[arg(long)]
        dir: PathBuf,
        /// A host name or IP address clients reach the hub by (repeat for several).
        #[arg(long = "name", required = true)]
        names: Vec<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new token (shown only this once): `--app NAME` for a business system, or `--admin`.
    Add {
        #[arg(long, conflicts_with = "admin", required_unless_present = "admin")]
        app: Option<String>,
        /// Where answers to the app's notifications will be POSTed.
        #[arg(long, requires = "app")]
        callback: Option<String>,
        /// Accept a callback URL with credentials or at a link-local or cloud metadata address.
        #[arg(long, requires = "callback")]
        allow_private_callbacks: bool,
        #[arg(long)]
        admin: bool,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum RoleCommand {
    Grant {
        role: String,
        user: String,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
    Revoke {
        role: String,
        user: String,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    AddMember {
        org: String,
        user: String,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
    RemoveMember {
        org: String,
        user: String,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum DigestCommand {
    /// Run every pending digest now, whatever the hour: what each user has held and still
    /// unread becomes one mail in the queue, which the hub serving DIR sends within seconds (a
    /// hub that is not running sends it when it starts).
    Send {
        /// Only this user's digest.
        #[arg(long)]
        user: Option<String>,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user and print a new bearer token for it (shown only this once).
    Add {
        name: String,
        /// Read the user's password (for the web inbox and devices) from one line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Where the user's mail goes.
        #[arg(long)]
        email: Option<String>,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
    /// Change a user's details.
    Set {
        name: String,
        /// Where the user's mail goes.
        #[arg(long, conflicts_with = "no_email", required_unless_present = "no_email")]
        email: Option<String>,
        /// The user gets no mail.
        #[arg(long)]
        no_email: bool,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
    /// Set a user's password, read from one line of standard input.
    Passwd {
        name: String,
        /// Read the password from standard input (the only way: never on the command line,
        /// where other users' `ps` would see it).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
    /// List users with their roles and organisations.
    List {
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
    /// Remove a user and everything that is theirs.
    Remove {
        name: String,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
}

/// Store calls run on blocking threads but queue on one connection, so more threads than this
/// only cost memory (each thread's stack and allocator arena): with tokio's default of 512, a
/// burst of feeds connecting at once left hundreds of idle threads behind.
const MAX_BLOCKING_THREADS: usize = 8;

fn main() -> anyhow::Result<()> {
    // The database (users, hashed tokens, everyone's notifications) is the hub's user's alone.
    herald_db::keep_files_private();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Serve {
            listen,
            data,
            ping_seconds,
            rate_limit,
            types,
            ingest,
            max_body_bytes,
            write_group,
            tls_cert,
            tls_key,
            allow_private_callbacks,
            smtp,
            smtp_ca,
            mail_from,
            public_url,
            digest_hour,
            timezone,
        } => {
            let rate_limit = (rate_limit > 0).then(|| herald_hub::RateLimit {
                per_second: f64::from(rate_limit),
                burst: 2.0 * f64::from(rate_limit),
            });
            let types = match types {
                Some(path) => herald_hub::types::TypeRegistry::load(&path)
                    .with_context(|| format!("reading the types file {}", path.display()))?,
                None => herald_hub::types::TypeRegistry::built_in(),
            };
            let ingest = match ingest {
                Some(path) => herald_hub::ingest::IngestConfig::from_file(&path)
                    .with_context(|| format!("reading the ingest file {}", path.display()))?,
                None => herald_hub::ingest::IngestConfig::built_in(),
            };
            let config = herald_hub::HubConfig {
                ingest: std::sync::Arc::new(ingest),
                max_body_bytes,
                ping_every: std::time::Duration::from_secs(ping_seconds),
                rate_limit,
                types: std::sync::Arc::new(types),
                tls: match (tls_cert, tls_key) {
                    (Some(cert), Some(key)) => Some(herald_hub::tls::server_config(&cert, &key)?),
                    _ => None,
                },
                allow_private_callbacks,
                mail: match (smtp, public_url) {
                    (Some(smtp), Some(public_url)) => {
                        let host = url::Url::parse(&public_url).ok().and_then(|u| u.host_str().map(str::to_owned));
                        let from = mail_from
                            .unwrap_or_else(|| format!("Herald <herald@{}>", host.as_deref().unwrap_or("localhost")));
                        let digest = herald_hub::mail::digest::DigestSchedule::new(digest_hour, &timezone)
                            .map_err(anyhow::Error::msg)?;
                        let mut mail = herald_hub::mail::MailConfig::new(&smtp, &from, &public_url)
                            .map_err(anyhow::Error::msg)?
                            .with_digest(digest);
                        if let Some(path) = smtp_ca {
                            let pem = std::fs::read(&path)
                                .with_context(|| format!("reading --smtp-ca {}", path.display()))?;
                            mail = mail.with_smtp_ca(pem).map_err(anyhow::Error::msg)?;
                        }
                        Some(mail)
                    }
                    _ => None,
                },
                ..Default::default()
            };
            serve(listen, data, config, write_group as usize).await
        }
        Command::Demo { server, token, to, every } => {
            demo::run(&server, &token, &to, std::time::Duration::from_secs(every.max(1))).await
        }
        Command::User { command } => users(command).await,
        Command::Digest { command: DigestCommand::Send { user, data } } => {
            let store = open(&data)?;
            if let Some(name) = &user {
                anyhow::ensure!(store.user_by_name(name).await?.is_some(), "user {name:?} does not exist");
            }
            let schedule = herald_hub::mail::digest::DigestSchedule::default();
            let runs = herald_hub::mail::digest::run_due(&store, &schedule, user, None).await?;
            let queued = runs.iter().filter(|(_, run)| run.mail_id.is_some()).count();
            for (user, run) in &runs {
                match run.mail_id {
                    Some(_) => println!("{user}: a digest of {} unread queued", run.listed),
                    None => println!("{user}: nothing unread, no digest ({} read since)", run.skipped),
                }
            }
            println!("{queued} digest(s) queued; the hub serving {} sends them", data.display());
            Ok(())
        }
        Command::Token { command: TokenCommand::Add { app, callback, allow_private_callbacks, admin: _, data } } => {
            let store = open(&data)?;
            let token = match app {
                Some(app) => store.add_app_token_with(&app, callback.as_deref(), allow_private_callbacks).await?,
                None => store.add_admin_token().await?,
            };
            println!("{token}");
            Ok(())
        }
        Command::Role { command: RoleCommand::Grant { role, user, data } } => {
            Ok(open(&data)?.grant_role(&user, &role).await?)
        }
        Command::Role { command: RoleCommand::Revoke { role, user, data } } => {
            Ok(open(&data)?.revoke_role(&user, &role).await?)
        }
        Command::Org { command: OrgCommand::AddMember { org, user, data } } => {
            Ok(open(&data)?.add_org_member(&org, &user).await?)
        }
        Command::Org { command: OrgCommand::RemoveMember { org, user, data } } => {
            Ok(open(&data)?.remove_org_member(&org, &user).await?)
        }
        Command::Follow { user, kind, id, stop, data } => {
            Ok(open(&data)?.set_follow(&user, ObjectRef { kind, id }, !stop).await?)
        }
        Command::TlsInit { dir, names } => {
            herald_hub::tls::issue_private_ca(&names)?
                .write_to(&dir)
                .with_context(|| format!("writing to {}", dir.display()))?;
            println!("{}", dir.join("ca.pem").display());
            Ok(())
        }
    }
}

fn open(data: &std::path::Path) -> anyhow::Result<Store> {
    Store::open(data).with_context(|| format!("opening the hub store in {}", data.display()))
}

async fn users(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { name, password_stdin, email, data } => {
            // Read, hashed and checked first: a bad password or address leaves no user behind.
            if let Some(address) = &email {
                anyhow::ensure!(herald_hub::store::valid_address(address), "invalid email address {address:?}");
            }
            let hash = match password_stdin {
                true => Some(herald_hub::passwords::hash(&read_password()?).await?),
                false => None,
            };
            let store = open(&data)?;
            let (_, token) = store.add_user_with_password(&name, hash).await?;
            if email.is_some() {
                store.set_email(&name, email).await?;
            }
            println!("{token}");
        }
        UserCommand::Set { name, email, no_email: _, data } => {
            anyhow::ensure!(open(&data)?.set_email(&name, email).await?, "user {name:?} does not exist");
        }
        UserCommand::Passwd { name, password_stdin: _, data } => {
            let hash = herald_hub::passwords::hash(&read_password()?).await?;
            open(&data)?.set_password_hash(&name, Some(hash)).await?;
        }
        UserCommand::List { data } => {
            for (user, roles, orgs) in open(&data)?.list_users().await? {
                println!("{}\troles: {}\torganizations: {}", user.name, roles.join(","), orgs.join(","));
            }
        }
        UserCommand::Remove { name, data } => open(&data)?.remove_user(&name).await?,
    }
    Ok(())
}

/// One line of standard input, without its line break.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    herald_hub::passwords::check(password).context("the password on standard input")?;
    Ok(password.to_owned())
}

async fn serve(
    listen: SocketAddr,
    data: PathBuf,
    config: herald_hub::HubConfig,
    write_group: usize,
) -> anyhow::Result<()> {
    // What an older hub left open to others is closed first.
    herald_db::make_private(&data)?;
    for entry in std::fs::read_dir(&data).into_iter().flatten().flatten() {
        herald_db::make_private(&entry.path())?;
    }
    let store = open(&data)?.with_max_group(write_group);
    if let Some(limit) = herald_hub::serve::raise_fd_limit() {
        tracing::info!(open_files = limit, "open-file limit");
    }
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    // Scripts and tests wait for this exact line to learn the port.
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    println!("herald-hub listening on {scheme}://{addr}");
    herald_hub::run_with(listener, store, config, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
