//! `herald <command>`: a headless CLI on herald-client, for scripts and tests. Reads go to the
//! local mirror (offline too); actions go through the running agent when there is one, and
//! otherwise into the mirror's outbox, sent to the hub at once if it can be reached.

use std::time::Duration;

use anyhow::{bail, Context};
use herald_client::accounts;
use herald_client::ipc::socket::{IpcIoError, IpcStream};
use herald_client::ipc::{Event, Request};
use herald_client::mirror::{AccountId, Before, Mirror, Query, SharedMirror};
use herald_client::outbox::Action;
use herald_client::secrets::{TokenStorage, TokenStore};
use herald_client::sync::{ConnectionState, SyncEngine, SyncEvent};
use herald_client::Config;
use herald_proto::Notification;
use tokio::sync::{broadcast, watch};

pub const USAGE: &str = "\
herald                      run the agent (tray, sync, toasts)
herald status               account, sync cursor, unread, queued actions
herald list [FILTERS]       the inbox, newest first
herald search WORDS [FILTERS]
herald show ID              one notification, as JSON
herald read ID... | --all   mark read        herald unread ID...
herald delete ID...         delete           herald confirm ID VALUE
herald reply ID TEXT...     answer in text   herald sync    catch up once and send queued actions
herald accounts             the accounts this inbox syncs (several hubs in one inbox)
herald accounts add NAME URL   add one (or point it at URL); its token is the first line of
                               stdin, kept in the keyring (or a file only you can read)
herald accounts add [NAME] URL --user USER [--password-stdin]
                               sign in with USER's password (asked for, or the first line of
                               stdin): the hub makes a token for this device; NAME defaults
                               to URL's host
herald accounts remove NAME    remove one, with its notifications and queued actions
herald autostart [on|off]   start the agent at login (an XDG autostart entry), or not
FILTERS: --unread --type T --module M --tag T --account NAME --limit N --before ID --json
The first account (\"default\") is the one HERALD_SERVER / HERALD_TOKEN set up.";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliCommand {
    Status,
    /// `before`: an id, resolved to its place in the inbox; `account`: a name.
    List {
        query: Box<Query>,
        json: bool,
        before: Option<i64>,
        account: Option<String>,
    },
    Accounts,
    AddAccount {
        name: String,
        server: String,
        /// Sign in as this user with a password instead of reading a token.
        user: Option<String>,
        /// The password is the first line of stdin rather than asked for.
        password_stdin: bool,
    },
    RemoveAccount {
        name: String,
    },
    Show(i64),
    Act(Action),
    Sync,
    /// None: say whether it is on.
    Autostart(Option<bool>),
    Help,
}

/// Turns start-at-login on or off, or says whether it is on.
fn autostart(on: Option<bool>) -> anyhow::Result<()> {
    use herald_client::autostart;
    let entry = autostart::here().context("no home directory to keep the autostart entry in")?;
    match on {
        Some(true) => {
            let program = std::env::current_exe().context("finding this program")?;
            entry.enable(&program).with_context(|| format!("writing {entry}"))?;
        }
        Some(false) => entry.disable().with_context(|| format!("removing {entry}"))?,
        None => {}
    }
    if entry.is_enabled() {
        println!("Herald starts at login ({entry})");
    } else {
        println!("Herald does not start at login (`herald autostart on` to change that)");
    }
    Ok(())
}

/// `accounts add`'s arguments: `NAME URL` (a token on stdin), or `[NAME] URL --user USER
/// [--password-stdin]`.
fn add_account_args(args: &[String]) -> anyhow::Result<CliCommand> {
    const USAGE: &str =
        "herald accounts add NAME URL, or herald accounts add [NAME] URL --user USER [--password-stdin]";
    let (mut positional, mut user, mut password_stdin) = (Vec::new(), None, false);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--user" => user = Some(args.next().context("--user needs a user name")?.clone()),
            "--password-stdin" => password_stdin = true,
            flag if flag.starts_with("--") => bail!("unknown option {flag:?}\n{USAGE}"),
            _ => positional.push(arg.clone()),
        }
    }
    if password_stdin && user.is_none() {
        bail!("--password-stdin signs in as a user: add --user USER");
    }
    let (name, server) = match (positional.as_slice(), &user) {
        ([name, server], _) => (name.clone(), server.clone()),
        ([server], Some(_)) => {
            let host = herald_client::config::parse_server(server)?.host_str().unwrap_or("hub").to_owned();
            (host, server.clone())
        }
        _ => bail!("{USAGE}"),
    };
    Ok(CliCommand::AddAccount { name, server, user, password_stdin })
}

/// None: no command, run the agent.
pub fn parse(args: &[String]) -> anyhow::Result<Option<CliCommand>> {
    let Some((first, rest)) = args.split_first() else { return Ok(None) };
    let ids = |rest: &[String]| -> anyhow::Result<Vec<i64>> {
        if rest.is_empty() {
            bail!("name at least one notification id");
        }
        rest.iter().map(|id| id.parse().with_context(|| format!("{id:?} is not a notification id"))).collect()
    };
    let id = |text: Option<&String>| -> anyhow::Result<i64> {
        let text = text.context("name a notification id")?;
        text.parse().with_context(|| format!("{text:?} is not a notification id"))
    };
    Ok(Some(match first.as_str() {
        "status" => CliCommand::Status,
        "list" => list(rest, None)?,
        "search" => {
            let words: Vec<&String> = rest.iter().take_while(|a| !a.starts_with("--")).collect();
            if words.is_empty() {
                bail!("search for what? herald search WORDS");
            }
            let text = words.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(" ");
            list(&rest[words.len()..], Some(text))?
        }
        "show" => CliCommand::Show(id(rest.first())?),
        "read" if rest == ["--all"] => CliCommand::Act(Action::ReadAll),
        "read" => CliCommand::Act(Action::MarkRead { ids: ids(rest)?, read: true }),
        "unread" => CliCommand::Act(Action::MarkRead { ids: ids(rest)?, read: false }),
        "delete" => CliCommand::Act(Action::Delete { ids: ids(rest)? }),
        "confirm" => {
            let value = rest.get(1).context("herald confirm ID VALUE")?.clone();
            CliCommand::Act(Action::Confirm { id: id(rest.first())?, value })
        }
        "reply" => {
            let text = rest.get(1..).unwrap_or_default().join(" ");
            if text.trim().is_empty() {
                bail!("herald reply ID TEXT");
            }
            CliCommand::Act(Action::Answer { id: id(rest.first())?, text })
        }
        "sync" => CliCommand::Sync,
        "accounts" => match rest {
            [] => CliCommand::Accounts,
            [add, args @ ..] if add == "add" => add_account_args(args)?,
            [remove, name] if remove == "remove" => CliCommand::RemoveAccount { name: name.clone() },
            _ => bail!("herald accounts [add NAME URL | remove NAME]"),
        },
        "autostart" => match rest {
            [] => CliCommand::Autostart(None),
            [on] if on == "on" => CliCommand::Autostart(Some(true)),
            [off] if off == "off" => CliCommand::Autostart(Some(false)),
            _ => bail!("usage: herald autostart [on|off]"),
        },
        "help" | "--help" | "-h" => CliCommand::Help,
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }))
}

fn list(args: &[String], text: Option<String>) -> anyhow::Result<CliCommand> {
    let mut query = Query { limit: 50, text, ..Query::default() };
    let (mut json, mut before, mut account) = (false, None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--unread" => query.unread = Some(true),
            "--json" => json = true,
            "--type" => query.kind = Some(value()?.clone()),
            "--module" => query.module = Some(value()?.clone()),
            "--tag" => query.tag = Some(value()?.clone()),
            "--limit" => query.limit = value()?.parse().context("--limit takes a number")?,
            "--before" => before = Some(value()?.parse().context("--before takes an id")?),
            "--account" => account = Some(value()?.clone()),
            other => bail!("unknown option {other:?}\n{USAGE}"),
        }
    }
    Ok(CliCommand::List { query: Box::new(query), json, before, account })
}

pub async fn run(config: Config, command: CliCommand) -> anyhow::Result<()> {
    match command {
        CliCommand::Help => println!("{USAGE}"),
        CliCommand::Autostart(on) => autostart(on)?,
        CliCommand::Status => status(&config)?,
        CliCommand::List { mut query, json, before, account } => {
            let mirror = read_only(&config)?;
            if let Some(id) = before {
                let last = mirror.get(id)?.with_context(|| format!("no notification {id} in this inbox"))?;
                query.before = Some(Before::after(&last));
            }
            if let Some(name) = account {
                query.account = Some(mirror.account_named(&name)?.with_context(|| format!("no account {name:?}"))?.id);
            }
            for n in mirror.search(&query)? {
                print_one(&n, json)?;
            }
        }
        CliCommand::Accounts => list_accounts(&config).await?,
        CliCommand::AddAccount { name, server, user, password_stdin } => {
            let token = match user {
                Some(user) => sign_in(&config, &server, &user, password_stdin).await?,
                None => token_from_stdin()?,
            };
            add_account(&config, &name, &server, &token).await?;
            tell_running_agent(&config).await;
        }
        CliCommand::RemoveAccount { name } => {
            remove_account(&config, &name).await?;
            tell_running_agent(&config).await;
        }
        CliCommand::Show(id) => match read_only(&config)?.get(id)? {
            Some(n) => println!("{}", serde_json::to_string_pretty(&n)?),
            None => bail!("no notification {id} in this inbox"),
        },
        CliCommand::Act(action) => act(&config, action).await?,
        CliCommand::Sync => sync_once(&config).await?,
    }
    Ok(())
}

fn read_only(config: &Config) -> anyhow::Result<Mirror> {
    let path = config.mirror_path();
    if !path.exists() {
        bail!("no inbox here yet ({}): run `herald sync` or the agent first", path.display());
    }
    Mirror::open_read_only(&path).with_context(|| format!("opening {}", path.display()))
}

fn print_one(n: &Notification, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(n)?);
    } else {
        let mark = if n.read { ' ' } else { '*' };
        println!("{:>8} {mark} {} {:<24} {}", n.id, n.created_at, n.kind, n.subject);
    }
    Ok(())
}

fn status(config: &Config) -> anyhow::Result<()> {
    let mirror = read_only(config)?;
    println!("inbox:    {}", config.mirror_path().display());
    for account in mirror.accounts()? {
        let server = account.server.as_deref().unwrap_or("(no server)");
        let queued = mirror.pending_actions(account.id, 10_000)?.len();
        println!("account:  {} at {server}: cursor {}, {} queued action(s)", account.name, account.cursor, queued);
    }
    println!("unread:   {}", mirror.unread_count()?);
    for (kind, count) in mirror.unread_by_type()? {
        println!("          {count:>6} {kind}");
    }
    println!("indexing: {} notification(s) not yet searchable", mirror.unindexed()?);
    Ok(())
}

async fn list_accounts(config: &Config) -> anyhow::Result<()> {
    let mut mirror = Mirror::open(&config.mirror_path()).context("opening the inbox")?;
    let store = TokenStore::open(&config.data_dir).await;
    let names: Vec<String> = mirror.accounts()?.into_iter().map(|a| a.name).collect();
    let tokens = store.load(&names).await?;
    let kept = match store.storage() {
        TokenStorage::Keyring => "token in the keyring",
        TokenStorage::File => "token in the token file",
    };
    // Both lists come from the accounts table in id order, one row each.
    let configured = accounts::configured(config, &mut mirror, &tokens)?;
    for (account, listed) in configured.iter().zip(mirror.accounts()?) {
        let server = account.server.as_ref().map_or("(no server)", |s| s.as_str());
        let token = match (&account.token, tokens.contains_key(&account.name)) {
            (Some(_), true) => kept,
            (Some(_), false) => "token from HERALD_TOKEN",
            (None, _) => "no token",
        };
        println!("{:<12} {server}  {token}, {} unread, cursor {}", account.name, listed.unread, listed.cursor);
    }
    Ok(())
}

/// A pasted token, from stdin: never the command line (which other users can read in the
/// process list).
fn token_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the token from stdin")?;
    let token = line.trim();
    if token.is_empty() {
        bail!("no token: pipe it in (herald accounts add NAME URL < token-file), or sign in with --user USER");
    }
    Ok(token.to_owned())
}

/// A device token from `user`'s password: asked for on the terminal (not echoed), or the first
/// line of stdin.
async fn sign_in(config: &Config, server: &str, user: &str, password_stdin: bool) -> anyhow::Result<String> {
    let server = herald_client::config::parse_server(server)?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        rpassword::prompt_password(format!("Password for {user} at {server}: ")).context("asking for the password")?
    };
    if password.is_empty() {
        bail!("no password given");
    }
    let device = herald_client::sign_in::device_name();
    let created = herald_client::sign_in::device_token(&server, &config.tls()?, user, &password, &device).await?;
    println!("signed in as {user}; the hub lists this desktop as {device:?} (revoke it there to sign it out)");
    Ok(created.token)
}

async fn add_account(config: &Config, name: &str, server: &str, token: &str) -> anyhow::Result<()> {
    let server = herald_client::config::parse_server(server)?;
    let mut mirror = Mirror::open(&config.mirror_path()).context("opening the inbox")?;
    mirror.upsert_account(name, server.as_str())?;
    let store = TokenStore::open(&config.data_dir).await;
    let kept = match store.set(name.trim(), Some(token)).await? {
        TokenStorage::Keyring => "its token is in the keyring".to_owned(),
        TokenStorage::File => format!(
            "its token is in {} (owner only: {})",
            config.data_dir.join("tokens.json").display(),
            store.why_file.as_deref().unwrap_or("no keyring")
        ),
    };
    println!("added {name} at {server}; {kept}");
    Ok(())
}

/// A running agent starts or stops syncing the changed account at once.
async fn tell_running_agent(config: &Config) {
    let Ok(mut agent) = IpcStream::connect(&config.socket_path()).await else { return };
    if let Err(e) = agent.send(&Request::AccountsChanged).await {
        println!("the running agent did not hear of it ({e}); it will when it next starts");
        return;
    }
    // Its answer comes after what it sends every new peer (connection state, unread count).
    let answer = async {
        while let Some(event) = agent.recv::<Event>().await {
            match event {
                Ok(Event::AccountsReloaded) => return Ok(()),
                Ok(Event::Error(error)) => return Err(error.message),
                // Other news, or news a newer agent sends that this one cannot read.
                Ok(_) | Err(IpcIoError::Decode(_)) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Err("it closed the connection".to_owned())
    };
    match tokio::time::timeout(AGENT_ANSWER, answer).await {
        Ok(Ok(())) => println!("the running agent now syncs the accounts set up"),
        Ok(Err(e)) => println!("the running agent could not follow ({e}); it will when it next starts"),
        Err(_) => println!("told the running agent; it has not answered yet"),
    }
}

/// How long `herald accounts add/remove` waits for the running agent to follow. Stopping an
/// engine waits for its feed to close, which is quick unless its hub hangs.
const AGENT_ANSWER: std::time::Duration = std::time::Duration::from_secs(10);

async fn remove_account(config: &Config, name: &str) -> anyhow::Result<()> {
    let mut mirror = Mirror::open(&config.mirror_path()).context("opening the inbox")?;
    let account = mirror.account_named(name)?.with_context(|| format!("no account {name:?}"))?;
    let tokens = TokenStore::open(&config.data_dir).await;
    let kept = tokens.load(std::slice::from_ref(&account.name)).await?.remove(&account.name);
    mirror.remove_account(account.id)?;
    tokens.set(&account.name, None).await?;
    // Its device signed out on the hub too (best effort; a pasted user token is left alone).
    if let (Some(token), Some(server)) = (kept, account.server.as_deref().and_then(|s| url::Url::parse(s).ok())) {
        let http = config.tls()?.http_client(herald_client::sign_in::SIGN_IN_TIMEOUT);
        herald_client::sign_in::sign_out_device(&http, &server, &token).await;
    }
    println!("removed {name}");
    Ok(())
}

/// Through the running agent if there is one (it owns the mirror and the link); otherwise
/// recorded here and sent at once if the hub answers, else left queued for the next sync.
async fn act(config: &Config, action: Action) -> anyhow::Result<()> {
    if let Ok(mut agent) = IpcStream::connect(&config.socket_path()).await {
        agent.send(&Request::Act { action }).await.context("telling the agent")?;
        println!("handed to the running agent");
        return Ok(());
    }
    let mut mirror = Mirror::open(&config.mirror_path()).context("opening the inbox")?;
    mirror.record_action(&action)?;
    drop(mirror);
    // Sent through a one-off sync, so the mirror's hub and account are checked first (an action
    // queued for one account never reaches another).
    match sync(config).await {
        Ok(rejected) if rejected.is_empty() => println!("sent"),
        Ok(rejected) => {
            for error in &rejected {
                eprintln!("the hub refused: {}", error.message);
            }
            bail!("refused by the hub; taken back here");
        }
        Err(e) => println!("queued: {e:#}; `herald sync` or the agent sends it later"),
    }
    Ok(())
}

/// `herald sync`: catches up from the hub once and sends queued actions, then exits.
async fn sync_once(config: &Config) -> anyhow::Result<()> {
    if IpcStream::connect(&config.socket_path()).await.is_ok() {
        println!("the agent is running and keeps this inbox in sync");
        return Ok(());
    }
    for error in sync(config).await? {
        eprintln!("the hub refused an action (taken back here): {}", error.message);
    }
    let mirror = Mirror::open_read_only(&config.mirror_path())?;
    let cursors: Vec<String> = mirror.accounts()?.iter().map(|a| format!("{} at {}", a.name, a.cursor)).collect();
    println!("in sync: {}; {} unread", cursors.join(", "), mirror.unread_count()?);
    Ok(())
}

/// One sync session over every account with a hub: connect (each engine checks its account's
/// hub and user), catch up, send the outbox, index for search. Returns the refusals of queued
/// actions.
async fn sync(config: &Config) -> anyhow::Result<Vec<herald_proto::ApiError>> {
    let mut mirror = Mirror::open(&config.mirror_path()).context("opening the inbox")?;
    let names: Vec<String> = mirror.accounts()?.into_iter().map(|a| a.name).collect();
    let tokens = TokenStore::open(&config.data_dir).await.load(&names).await?;
    let accounts = accounts::syncable(config, &mut mirror, &tokens)?;
    if accounts.is_empty() {
        bail!("no hub configured (HERALD_SERVER and HERALD_TOKEN, or herald accounts add)");
    }
    let mirror = SharedMirror::new(mirror);
    let (events_tx, mut events) = broadcast::channel(256);
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    let tls = config.tls()?;
    for account in &accounts {
        let engine = SyncEngine::for_account(
            account.id,
            account.server.clone(),
            account.token.clone(),
            mirror.clone(),
            events_tx.clone(),
        )
        .with_tls(tls.clone());
        tasks.push(tokio::spawn(engine.run(stopped.clone())));
    }
    let name = |id: AccountId| accounts.iter().find(|a| a.id == id).map_or("?", |a| a.name.as_str()).to_owned();
    let mut rejected = Vec::new();
    let outcome = tokio::time::timeout(Duration::from_secs(60), async {
        let mut online = std::collections::BTreeSet::new();
        loop {
            match events.recv().await {
                Ok(SyncEvent::Connection { account, state: ConnectionState::Online }) => {
                    online.insert(account);
                }
                Ok(SyncEvent::Connection { account, state: ConnectionState::Offline { reason, .. } }) => {
                    bail!("{}: {reason}", name(account))
                }
                Ok(SyncEvent::ActionRejected { error, .. }) => rejected.push(error),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => bail!("sync stopped"),
            }
            let ids: Vec<AccountId> = accounts.iter().map(|a| a.id).collect();
            let all_sent = mirror
                .call(move |m| {
                    for id in ids {
                        if !m.pending_actions(id, 1)?.is_empty() {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                })
                .await?;
            if online.len() == accounts.len() && all_sent {
                return Ok(());
            }
        }
    })
    .await;
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    // A refusal is reported right after the flush that took it back: collect any still queued.
    while let Ok(event) = events.try_recv() {
        if let SyncEvent::ActionRejected { error, .. } = event {
            rejected.push(error);
        }
    }
    outcome.context("the hub did not answer within 60 s")??;
    // The agent indexes in the background; a one-off sync finishes the job so `search` works.
    while mirror.call(|m| m.index_some(5_000)).await? > 0 {}
    Ok(rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn commands_and_filters_parse() {
        assert_eq!(parse(&[]).unwrap(), None, "no command runs the agent");
        assert_eq!(
            parse(&args("read 3 4")).unwrap(),
            Some(CliCommand::Act(Action::MarkRead { ids: vec![3, 4], read: true }))
        );
        assert_eq!(parse(&args("read --all")).unwrap(), Some(CliCommand::Act(Action::ReadAll)));
        assert_eq!(
            parse(&args("reply 9 see you at noon")).unwrap(),
            Some(CliCommand::Act(Action::Answer { id: 9, text: "see you at noon".into() }))
        );
        let Some(CliCommand::List { query, json, .. }) =
            parse(&args("search budget q3 --unread --module social --json")).unwrap()
        else {
            panic!("a list")
        };
        assert_eq!(
            (query.text.as_deref(), query.unread, query.module.as_deref(), json),
            (Some("budget q3"), Some(true), Some("social"), true)
        );
    }

    #[test]
    fn mistakes_get_a_clear_message() {
        assert!(parse(&args("read")).unwrap_err().to_string().contains("at least one"));
        assert!(parse(&args("read seven")).unwrap_err().to_string().contains("\"seven\""));
        assert!(parse(&args("frobnicate")).unwrap_err().to_string().contains("unknown command"));
        assert!(parse(&args("list --limit")).unwrap_err().to_string().contains("needs a value"));
    }

    #[test]
    fn an_account_is_added_with_a_token_or_by_signing_in() {
        let add = |line: &str| parse(&args(line)).unwrap().unwrap();
        assert_eq!(
            add("accounts add work https://hub.example.org"),
            CliCommand::AddAccount {
                name: "work".into(),
                server: "https://hub.example.org".into(),
                user: None,
                password_stdin: false
            }
        );
        assert_eq!(
            add("accounts add https://hub.example.org:8470 --user ann --password-stdin"),
            CliCommand::AddAccount {
                name: "hub.example.org".into(),
                server: "https://hub.example.org:8470".into(),
                user: Some("ann".into()),
                password_stdin: true
            }
        );
        let error = |line: &str| parse(&args(line)).unwrap_err().to_string();
        assert!(error("accounts add https://hub.example.org").contains("--user"), "a URL alone needs a user");
        assert!(error("accounts add w https://h --password-stdin").contains("--user USER"));
        assert!(error("accounts add w https://h --user").contains("needs a user name"));
    }
}
