//! `herald-hub`: serve the API, manage users, or post demo traffic.

mod demo;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use herald_hub::Store;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "herald-hub", version, about = "Herald's notification server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

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
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user and print a new bearer token for it (shown only this once).
    Add {
        name: String,
        #[arg(long, env = "HERALD_HUB_DATA")]
        data: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { listen, data } => serve(listen, data).await,
        Command::Demo { server, token, to, every } => {
            demo::run(&server, &token, &to, std::time::Duration::from_secs(every.max(1))).await
        }
        Command::User { command: UserCommand::Add { name, data } } => {
            let store = Store::open(&data).with_context(|| format!("opening the hub store in {}", data.display()))?;
            let (_, token) = store.add_user(&name).await?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn serve(listen: SocketAddr, data: PathBuf) -> anyhow::Result<()> {
    let store = Store::open(&data).with_context(|| format!("opening the hub store in {}", data.display()))?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    // Scripts and tests wait for this exact line to learn the port.
    println!("herald-hub listening on http://{addr}");
    herald_hub::run(listener, store, shutdown_signal()).await?;
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
