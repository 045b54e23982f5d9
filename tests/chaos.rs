//! The chaos test: a real hub process and three headless clients (herald-chaos-client: the sync
//! engine, mirror and outbox of herald-client) — Bob on two desktops, Alice on one — with a
//! fault-injecting proxy between them. While a business system sends (plain, tagged, confirm and
//! question notifications, deletes by tag) and the clients read, delete, confirm and answer,
//! 1,000 faults are injected at random: connection resets, stalls, cuts in the middle of a frame,
//! kill -9 of a client, kill -9 of the hub, and orderly hub restarts.
//!
//! Then, with the faults over, every client's mirror must equal the hub's state for its user
//! exactly; every send the system saw acknowledged exists exactly once (unless replaced or
//! deleted); every action a client acknowledged is applied (none lost to a kill -9, none refused
//! as a duplicate); and SQLite's integrity checks pass on every database.
//!
//! HERALD_CHAOS_FAULTS sets the number of faults (default 1,000, about 3 minutes here).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_client::mirror::{ids, Mirror};
use herald_e2e::chaos_proxy::{ChaosProxy, LinkFault};
use herald_e2e::hub::Hub;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

const USERS: [&str; 2] = ["bob", "alice"];
const TAGS: [&str; 4] = ["build", "deploy", "digest", "standup"];

/// What one notification is, as compared between a mirror and the hub.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    id: i64,
    subject: String,
    read: bool,
    tag: Option<String>,
    answer: Option<(Option<String>, Option<String>)>,
}

impl Seen {
    fn of(n: &herald_proto::Notification, id: i64) -> Self {
        Seen {
            id,
            subject: n.subject.clone(),
            read: n.read,
            tag: n.tag.clone(),
            answer: n.answer.as_ref().map(|a| (a.value.clone(), a.text.clone())),
        }
    }
}

/// What the business system was told the hub accepted, in order.
#[derive(Default)]
struct Sends {
    /// (user, subject) → still expected at the hub.
    expected: BTreeMap<(String, String), bool>,
    /// (user, tag) → the subjects sent with that tag.
    tagged: BTreeMap<(String, String), Vec<String>>,
}

/// An action a client acknowledged (committed to its outbox).
#[derive(Debug)]
struct Acked {
    user: &'static str,
    verb: String,
    hub_id: i64,
    subject: String,
}

struct Client {
    name: String,
    user: &'static str,
    parity: Option<i64>,
    data: PathBuf,
    env: Vec<(String, String)>,
    pid: AtomicU32,
    io: tokio::sync::Mutex<ClientIo>,
}

struct ClientIo {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Client {
    fn spawn_io(data: &Path, env: &[(String, String)]) -> ClientIo {
        let mut child = tokio::process::Command::new(herald_e2e::binary("herald-chaos-client"))
            .envs(env.iter().cloned())
            .env("HERALD_DATA_DIR", data)
            .env("HERALD_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starting herald-chaos-client");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        ClientIo { child, stdin, lines }
    }

    fn start(name: &str, user: &'static str, parity: Option<i64>, root: &Path, server: &str, token: &str) -> Self {
        let data = root.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let env = vec![("HERALD_SERVER".to_owned(), server.to_owned()), ("HERALD_TOKEN".to_owned(), token.to_owned())];
        let io = Self::spawn_io(&data, &env);
        let pid = AtomicU32::new(io.child.id().unwrap());
        Client { name: name.into(), user, parity, data, env, pid, io: tokio::sync::Mutex::new(io) }
    }

    /// Asks for one action; Some only when the client acknowledged it.
    async fn act(&self, verb: &str) -> Option<Acked> {
        let mut io = self.io.lock().await;
        let parity = self.parity.map(|p| format!(" {p}")).unwrap_or_default();
        io.stdin.write_all(format!("{verb}{parity}\n").as_bytes()).await.ok()?;
        let line = tokio::time::timeout(Duration::from_secs(10), io.lines.next_line()).await.ok()?.ok()??;
        let mut words = line.split_whitespace();
        (words.next()? == "ok").then_some(())?;
        let verb = words.next()?.to_owned();
        let hub_id = words.next()?.parse().ok()?;
        Some(Acked { user: self.user, verb, hub_id, subject: words.next()?.to_owned() })
    }

    /// kill -9, whatever it is doing (an action may be half written), then a new process on the
    /// same profile.
    async fn crash_and_restart(&self) {
        let pid = self.pid.load(Ordering::SeqCst);
        let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
        let mut io = self.io.lock().await;
        let _ = io.child.wait().await;
        *io = Self::spawn_io(&self.data, &self.env);
        self.pid.store(io.child.id().unwrap(), Ordering::SeqCst);
    }

    /// The mirror as another process reads it: the notifications (with the hub's ids) and
    /// whether actions are still queued.
    fn mirror_state(&self) -> (Vec<Seen>, bool) {
        let mirror = Mirror::open_read_only(&self.data.join("mirror.sqlite3")).unwrap();
        let mut seen: Vec<Seen> =
            mirror.list(None, 100_000).unwrap().iter().map(|n| Seen::of(n, ids::hub(n.id))).collect();
        seen.sort();
        (seen, !mirror.pending_actions(1, 1).unwrap().is_empty())
    }
}

/// The hub process, restarted on the same port and data as faults demand.
struct HubSlot {
    hub: Mutex<Option<Hub>>,
    addr: String,
    data: PathBuf,
    url: String,
}

impl HubSlot {
    fn restart(&self, crash: bool) {
        let old = self.hub.lock().unwrap().take().expect("the hub is running");
        if crash {
            old.kill();
        } else {
            old.stop();
        }
        *self.hub.lock().unwrap() = Some(Hub::start(&self.data, &self.addr));
    }
}

/// `GET /v1/notifications`, every page, sorted by id; None while the hub is unreachable.
async fn hub_state(http: &reqwest::Client, url: &str, token: &str) -> Option<Vec<Seen>> {
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut request = http.get(format!("{url}/v1/notifications")).bearer_auth(token).query(&[("limit", "200")]);
        if let Some(cursor) = &before {
            request = request.query(&[("before", cursor)]);
        }
        let page: Value = request.send().await.ok()?.error_for_status().ok()?.json().await.ok()?;
        for item in page["items"].as_array()? {
            let n: herald_proto::Notification = serde_json::from_value(item.clone()).unwrap();
            seen.push(Seen::of(&n, n.id));
        }
        match page["next"].as_str() {
            Some(next) => before = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    Some(seen)
}

/// How many times the hub created a notification with each subject for the user: its journal
/// (`/v1/changes`) keeps every creation, also of those replaced or deleted since.
async fn creations(http: &reqwest::Client, url: &str, token: &str) -> BTreeMap<String, u32> {
    let mut created = BTreeMap::new();
    let mut since = 0;
    loop {
        let page: herald_proto::ChangesPage = http
            .get(format!("{url}/v1/changes"))
            .bearer_auth(token)
            .query(&[("since", since.to_string()), ("limit", "1000".into())])
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        for change in &page.changes {
            if let herald_proto::ChangeKind::Created { notification } = &change.kind {
                *created.entry(notification.subject.clone()).or_default() += 1;
            }
        }
        match page.next {
            Some(next) => since = next,
            None => return created,
        }
    }
}

/// POSTs or DELETEs until the hub answers 2xx, with one idempotency key for every try: a try the
/// hub applied but whose answer was lost to a crash must not be applied twice.
async fn until_accepted(request: impl Fn() -> reqwest::RequestBuilder) {
    let key = format!("chaos-{}", rand::random::<u64>());
    for _ in 0..600 {
        let Ok(response) = request().header("idempotency-key", &key).timeout(Duration::from_secs(5)).send().await
        else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let status = response.status();
        if status.is_success() {
            return;
        }
        let error: Value = response.json().await.unwrap_or_default();
        match (status.as_u16(), error["code"].as_str()) {
            // Applied before the hub stopped; only its answer is gone.
            (409, Some("answer_lost")) => return,
            // The first try is still running on the hub, or the hub is stopping: try again.
            (409, Some("request_in_progress")) | (500.., _) => tokio::time::sleep(Duration::from_millis(50)).await,
            _ => panic!("the hub refused a valid request: {status} {error}"),
        }
    }
    panic!("the hub never accepted a request in 30 s");
}

/// The business system: sends and deletes by tag until `stop`, recording what was accepted.
async fn business_system(url: String, app: String, bob: String, sends: Arc<Mutex<Sends>>, stop: Arc<AtomicBool>) {
    let http = reqwest::Client::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let subject = format!("s{n}");
        let roll = rand::random_range(0..100);
        let to: Vec<&str> = match roll % 3 {
            0 => vec!["bob"],
            1 => vec!["alice"],
            _ => vec!["bob", "alice"],
        };
        if roll < 5 {
            // Bob deletes a tag's notifications from some other device.
            let tag = TAGS[rand::random_range(0..TAGS.len())];
            let path = format!("{url}/v1/notifications?tag={tag}");
            until_accepted(|| http.delete(&path).bearer_auth(&bob)).await;
            let mut sends = sends.lock().unwrap();
            for subject in sends.tagged.remove(&("bob".to_owned(), tag.to_owned())).unwrap_or_default() {
                sends.expected.insert(("bob".into(), subject), false);
            }
            continue;
        }
        let tag = (roll < 30).then(|| TAGS[rand::random_range(0..TAGS.len())]);
        let mut body = json!({"to": {"users": to}, "subject": subject, "body": "chaos", "tag": tag});
        match roll {
            30..50 => body["buttons"] = json!([{"value": "Y", "label": "Yes"}, {"value": "N", "label": "No"}]),
            50..70 => body["reply"] = json!({"placeholder": "Your answer"}),
            _ => {}
        }
        let path = format!("{url}/v1/notifications");
        until_accepted(|| http.post(&path).bearer_auth(&app).json(&body)).await;
        {
            let mut sends = sends.lock().unwrap();
            for user in to {
                if let Some(tag) = tag {
                    // The same tag replaces what came before it.
                    let replaced = sends.tagged.entry((user.into(), tag.into())).or_default();
                    for old in std::mem::replace(replaced, vec![subject.clone()]) {
                        sends.expected.insert((user.into(), old), false);
                    }
                }
                sends.expected.insert((user.into(), subject.clone()), true);
            }
        }
        tokio::time::sleep(Duration::from_millis(rand::random_range(40..120))).await;
    }
}

/// The users: each client acts at random until `stop`; what was acknowledged is kept.
async fn users_acting(clients: Arc<Vec<Client>>, acked: Arc<Mutex<Vec<Acked>>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        let client = &clients[rand::random_range(0..clients.len())];
        let verb = ["read", "read", "delete", "answer", "confirm"][rand::random_range(0..5)];
        if let Some(done) = client.act(verb).await {
            acked.lock().unwrap().push(done);
        }
        tokio::time::sleep(Duration::from_millis(rand::random_range(10..60))).await;
    }
}

/// One random fault; false if it found no connection to break.
async fn inject_fault(
    proxy: &ChaosProxy,
    hub: &HubSlot,
    clients: &[Client],
    counts: &mut BTreeMap<&'static str, u32>,
) -> bool {
    let roll = rand::random_range(0..100);
    let pick = |n: usize| rand::random_range(0..n);
    let (name, done) = match roll {
        0..30 => ("connection reset", proxy.break_one(LinkFault::Reset, pick)),
        30..55 => {
            let stall = Duration::from_millis(rand::random_range(200..2_000));
            ("stall", proxy.break_one(LinkFault::Stall(stall), pick))
        }
        55..80 => ("cut mid-frame", proxy.break_one(LinkFault::CutMidFrame, pick)),
        80..92 => {
            clients[pick(clients.len())].crash_and_restart().await;
            ("client kill -9", true)
        }
        92..96 => {
            tokio::task::block_in_place(|| hub.restart(true));
            ("hub kill -9", true)
        }
        _ => {
            tokio::task::block_in_place(|| hub.restart(false));
            ("hub restart", true)
        }
    };
    if done {
        *counts.entry(name).or_default() += 1;
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_faults_lose_nothing_and_every_mirror_ends_equal_to_the_hub() {
    let faults: u32 = std::env::var("HERALD_CHAOS_FAULTS").ok().and_then(|f| f.parse().ok()).unwrap_or(1_000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let first = Hub::start(&data, "127.0.0.1:0");
    let tokens: BTreeMap<&str, String> = USERS.iter().map(|u| (*u, first.add_user(u))).collect();
    let app = first.add_app("erp");
    let (addr, url) = (first.addr, first.url());
    let hub = HubSlot { hub: Mutex::new(Some(first)), addr: addr.to_string(), data: data.clone(), url };
    let proxy = ChaosProxy::start(addr).await;
    let via_proxy = format!("http://{}", proxy.addr);
    let clients = Arc::new(vec![
        Client::start("bob-laptop", "bob", Some(0), dir.path(), &via_proxy, &tokens["bob"]),
        Client::start("bob-desktop", "bob", Some(1), dir.path(), &via_proxy, &tokens["bob"]),
        Client::start("alice-laptop", "alice", None, dir.path(), &via_proxy, &tokens["alice"]),
    ]);

    let stop = Arc::new(AtomicBool::new(false));
    let sends = Arc::new(Mutex::new(Sends::default()));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let system =
        tokio::spawn(business_system(via_proxy.clone(), app, tokens["bob"].clone(), sends.clone(), stop.clone()));
    let users = tokio::spawn(users_acting(clients.clone(), acked.clone(), stop.clone()));

    let mut counts = BTreeMap::new();
    let mut injected = 0;
    while injected < faults {
        if inject_fault(&proxy, &hub, &clients, &mut counts).await {
            injected += 1;
        }
        tokio::time::sleep(Duration::from_millis(rand::random_range(20..220))).await;
    }
    stop.store(true, Ordering::SeqCst);
    system.await.unwrap();
    users.await.unwrap();
    eprintln!("faults: {counts:?}");

    // The faults are over: every client must come to the hub's state, with nothing queued.
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    let states = loop {
        let mut states = BTreeMap::new();
        for user in USERS {
            states.insert(user, hub_state(&http, &hub.url, &tokens[user]).await.expect("the hub answers"));
        }
        let behind: Vec<String> = clients
            .iter()
            .filter_map(|c| {
                let (mirror, queued) = c.mirror_state();
                (queued || mirror != states[c.user]).then(|| {
                    let hub_ids: BTreeSet<i64> = states[c.user].iter().map(|s| s.id).collect();
                    let differing = mirror.iter().filter(|s| !states[c.user].contains(s)).count()
                        + hub_ids.len().saturating_sub(mirror.len());
                    format!("{}: queued {queued}, {} rows, {differing} differ", c.name, mirror.len())
                })
            })
            .collect();
        if behind.is_empty() {
            break states;
        }
        let behind = behind.join("; ");
        assert!(tokio::time::Instant::now() < deadline, "the mirrors did not come to the hub's state: {behind}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    // Every acknowledged send is there exactly once, unless its tag replaced it or someone
    // deleted it; and nothing is there that no one sent.
    // Taken out: the checks below await the hub.
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let deleted_by_clients: BTreeSet<(&str, &str)> =
        acked.iter().filter(|a| a.verb == "delete").map(|a| (a.user, a.subject.as_str())).collect();
    let sends = std::mem::take(&mut *sends.lock().unwrap());
    let mut kept = 0;
    for ((user, subject), expected) in &sends.expected {
        let at_hub = states[user.as_str()].iter().filter(|s| &s.subject == subject).count();
        assert!(at_hub <= 1, "{subject} is at {user}'s {at_hub} times");
        if !expected {
            assert_eq!(at_hub, 0, "{subject} for {user} was replaced or deleted by tag, yet it is there");
        } else if at_hub == 0 {
            let user = user.as_str();
            assert!(deleted_by_clients.contains(&(user, subject.as_str())), "{subject} for {user} is lost");
        }
        kept += at_hub;
    }
    for (user, state) in &states {
        for seen in state {
            assert!(sends.expected.contains_key(&(user.to_string(), seen.subject.clone())), "{seen:?} was never sent");
        }
    }
    assert!(kept > 0, "nothing was kept: the test exercised nothing");
    // Created exactly once, replaced or deleted since or not: the hub's journal says so.
    for user in USERS {
        let created = creations(&http, &hub.url, &tokens[user]).await;
        let sent: BTreeSet<&str> =
            sends.expected.keys().filter(|(u, _)| u == user).map(|(_, subject)| subject.as_str()).collect();
        assert_eq!(created.keys().map(String::as_str).collect::<BTreeSet<_>>(), sent, "{user}: what was created");
        let twice: Vec<_> = created.iter().filter(|(_, n)| **n != 1).collect();
        assert!(twice.is_empty(), "{user}: created more than once: {twice:?}");
    }

    // Every acknowledged action was applied: none lost to a kill -9, none refused as a repeat.
    let mut applied: BTreeMap<&str, u32> = BTreeMap::new();
    for action in acked.iter() {
        let state = &states[action.user];
        let now = state.iter().find(|s| s.id == action.hub_id);
        match action.verb.as_str() {
            "delete" => assert!(now.is_none(), "{action:?} was acknowledged, yet it is still there"),
            "read" => assert!(now.is_none_or(|s| s.read), "{action:?} was acknowledged, yet it is unread: {now:?}"),
            "answer" => {
                let expected = (None, Some(format!("answer to {}", action.hub_id)));
                assert_eq!(now.and_then(|s| s.answer.clone()), Some(expected), "{action:?}");
            }
            "confirm" => assert_eq!(now.and_then(|s| s.answer.clone()), Some((Some("Y".into()), None)), "{action:?}"),
            other => panic!("unknown verb {other}"),
        }
        *applied.entry(action.verb.as_str()).or_default() += 1;
    }
    eprintln!("acknowledged actions: {applied:?}; sends: {}; kept: {kept}", sends.expected.len());
    for client in clients.iter() {
        let rejected = std::fs::read_to_string(client.data.join("rejected.log")).unwrap_or_default();
        assert!(rejected.is_empty(), "{} had actions refused: {rejected}", client.name);
    }

    // SQLite finds nothing wrong with any database.
    for db in [data.join("hub.sqlite3")].into_iter().chain(clients.iter().map(|c| c.data.join("mirror.sqlite3"))) {
        herald_db::check_integrity_of(&db).unwrap_or_else(|e| panic!("{}: {e}", db.display()));
    }
}
