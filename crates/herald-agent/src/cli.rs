//! `herald <command>`: a headless CLI on herald-client, for scripts and tests. Reads go to the
//! local mirror (offline too); actions go through the running agent when there is one, and
//! otherwise into the mirror's outbox, sent to the hub at once if it can be reached.

use std::time::Duration;

use anyhow::{bail, Context};
use herald_client::ipc::socket::IpcStream;
use herald_client::ipc::Request;
use herald_client::mirror::{Mirror, Query, SharedMirror};
use herald_client::outbox::Action;
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
FILTERS: --unread --type T --module M --tag T --limit N --before ID --json";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliCommand {
    Status,
    List { query: Query, json: bool },
    Show(i64),
    Act(Action),
    Sync,
    Help,
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
        "help" | "--help" | "-h" => CliCommand::Help,
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }))
}

fn list(args: &[String], text: Option<String>) -> anyhow::Result<CliCommand> {
    let mut query = Query { limit: 50, text, ..Query::default() };
    let mut json = false;
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
            "--before" => query.before = Some(value()?.parse().context("--before takes an id")?),
            other => bail!("unknown option {other:?}\n{USAGE}"),
        }
    }
    Ok(CliCommand::List { query, json })
}

pub async fn run(config: Config, command: CliCommand) -> anyhow::Result<()> {
    match command {
        CliCommand::Help => println!("{USAGE}"),
        CliCommand::Status => status(&config)?,
        CliCommand::List { query, json } => {
            for n in read_only(&config)?.search(&query)? {
                print_one(&n, json)?;
            }
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
    println!("server:   {}", config.server.as_ref().map_or("(not set)", |s| s.as_str()));
    println!("inbox:    {}", config.mirror_path().display());
    println!("cursor:   {}", mirror.cursor()?);
    println!("unread:   {}", mirror.unread_count()?);
    for (kind, count) in mirror.unread_by_type()? {
        println!("          {count:>6} {kind}");
    }
    println!("queued:   {} action(s) not yet sent", mirror.pending_actions(10_000)?.len());
    println!("indexing: {} notification(s) not yet searchable", mirror.unindexed()?);
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
    if config.server.is_none() || config.token.is_none() {
        println!("queued: no hub configured (HERALD_SERVER, HERALD_TOKEN)");
        return Ok(());
    }
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
    println!("in sync: cursor {}, {} unread", mirror.cursor()?, mirror.unread_count()?);
    Ok(())
}

/// One sync session: connect (the engine checks the mirror belongs to this hub and account),
/// catch up, send the outbox, index for search. Returns the refusals of queued actions.
async fn sync(config: &Config) -> anyhow::Result<Vec<herald_proto::ApiError>> {
    let mirror = SharedMirror::new(Mirror::open(&config.mirror_path()).context("opening the inbox")?);
    let (events_tx, mut events) = broadcast::channel(256);
    let engine = SyncEngine::new(config.server.clone(), config.token.clone(), mirror.clone(), events_tx);
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(engine.run(stopped));
    let mut rejected = Vec::new();
    let outcome = tokio::time::timeout(Duration::from_secs(60), async {
        let mut online = false;
        loop {
            match events.recv().await {
                Ok(SyncEvent::Connection(ConnectionState::Online)) => online = true,
                Ok(SyncEvent::Connection(ConnectionState::Offline { reason, .. })) => bail!("{reason}"),
                Ok(SyncEvent::ActionRejected { error, .. }) => rejected.push(error),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => bail!("sync stopped"),
            }
            if online && mirror.call(|m| m.pending_actions(1)).await?.is_empty() {
                return Ok(());
            }
        }
    })
    .await;
    let _ = stop.send(true);
    let _ = task.await;
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
        let Some(CliCommand::List { query, json }) =
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
}
