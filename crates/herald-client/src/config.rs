//! Configuration: defaults in code → `config.toml` in the XDG config dir → `HERALD_*` variables.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Base URL of herald-hub, e.g. `http://127.0.0.1:8470`. None: not set up yet.
    pub server: Option<Url>,
    /// Bearer token for the hub.
    pub token: Option<String>,
    /// Where the mirror and logs live.
    pub data_dir: PathBuf,
    /// Where the agent's IPC socket lives (per-user, not readable by others).
    pub runtime_dir: PathBuf,
    /// Critical notifications, calls and shutdown warnings toast even during quiet hours and
    /// do-not-disturb (`critical_breaks_through` in the file, `HERALD_CRITICAL_BREAKS_THROUGH`).
    pub critical_breaks_through: bool,
    /// A PEM file of CA certificates to trust for https/wss besides the system's (`ca_file` in
    /// the file, `HERALD_CA_FILE`): for a hub whose certificate comes from a private CA.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var} is not a valid URL: {source}")]
    BadServer { var: &'static str, source: url::ParseError },
    #[error("server URL must start with http:// or https://, got {0}")]
    BadScheme(String),
    #[error("cannot read {path}: {message}")]
    File { path: String, message: String },
    #[error("no data directory: set HERALD_DATA_DIR")]
    NoDataDir,
    #[error("HERALD_CRITICAL_BREAKS_THROUGH must be true or false, got {0:?}")]
    BadFlag(String),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// What `config.toml` may hold. The token is not among them: it belongs in the keyring or env.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    server: Option<String>,
    data_dir: Option<PathBuf>,
    critical_breaks_through: Option<bool>,
    ca_file: Option<PathBuf>,
}

impl Config {
    /// Reads the configuration the way the agent and the windows both must, so they agree.
    pub fn load() -> Result<Self, ConfigError> {
        let file_path = dirs::config_dir().map(|d| d.join("herald").join("config.toml"));
        let file = match &file_path {
            Some(path) if path.exists() => read_file(path)?,
            _ => FileConfig::default(),
        };
        Self::resolve(file, |name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    fn resolve(file: FileConfig, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let server = match env("HERALD_SERVER").or(file.server) {
            Some(raw) => Some(parse_server(&raw)?),
            None => None,
        };
        let data_dir = env("HERALD_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .or_else(|| dirs::data_local_dir().map(|d| d.join("herald")))
            .ok_or(ConfigError::NoDataDir)?;
        // XDG's runtime dir is a Unix thing (a Windows program under Wine may still see one).
        let runtime_dir = env("XDG_RUNTIME_DIR")
            .filter(|_| cfg!(unix))
            .map(|d| PathBuf::from(d).join("herald"))
            .unwrap_or_else(|| data_dir.join("run"));
        let critical_breaks_through = match env("HERALD_CRITICAL_BREAKS_THROUGH") {
            Some(flag) => match flag.as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                other => return Err(ConfigError::BadFlag(other.to_owned())),
            },
            None => file.critical_breaks_through.unwrap_or(true),
        };
        let ca_file = env("HERALD_CA_FILE").map(PathBuf::from).or(file.ca_file);
        Ok(Config { server, token: env("HERALD_TOKEN"), data_dir, runtime_dir, critical_breaks_through, ca_file })
    }

    /// The TLS trust this configuration asks for: the system's roots and `ca_file`'s.
    pub fn tls(&self) -> Result<crate::tls::Tls, ConfigError> {
        Ok(crate::tls::Tls::load(self.ca_file.as_deref())?)
    }

    pub fn mirror_path(&self) -> PathBuf {
        self.data_dir.join("mirror.sqlite3")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    /// Takes group and other permissions off what an older Herald left in the profile (the
    /// profile, the mirror and its WAL files, the logs); what this one creates is private already
    /// ([`crate::keep_files_private`]).
    pub fn make_profile_private(&self) {
        let mirror = self.mirror_path();
        let mut paths = vec![self.data_dir.clone(), self.log_dir()];
        for suffix in ["", "-wal", "-shm"] {
            let mut path = mirror.clone().into_os_string();
            path.push(suffix);
            paths.push(path.into());
        }
        if let Ok(logs) = std::fs::read_dir(self.log_dir()) {
            paths.extend(logs.flatten().map(|entry| entry.path()));
        }
        for path in paths {
            if let Err(e) = crate::make_private(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot make this private");
            }
        }
    }

    /// The agent's socket. Named after the data dir, so each profile (and each test) has its own
    /// single agent. FNV-1a, not `DefaultHasher`, because the name must not change between builds.
    pub fn socket_path(&self) -> PathBuf {
        let mut hash: u32 = 0x811c_9dc5;
        for byte in self.data_dir.as_os_str().as_encoded_bytes() {
            hash = (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193);
        }
        self.runtime_dir.join(format!("agent-{hash:08x}.sock"))
    }
}

/// A hub's base URL: http or https only.
pub fn parse_server(raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim()).map_err(|source| ConfigError::BadServer { var: "HERALD_SERVER", source })?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        _ => Err(ConfigError::BadScheme(raw.to_owned())),
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::File { path: path.display().to_string(), message: e.to_string() })?;
    toml::from_str(&text).map_err(|e| ConfigError::File { path: path.display().to_string(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn env_overrides_the_file() {
        let file = FileConfig {
            server: Some("http://file:1".into()),
            data_dir: Some("/file".into()),
            ..FileConfig::default()
        };
        let config = Config::resolve(
            file,
            env_of(&[("HERALD_SERVER", "http://env:2"), ("HERALD_DATA_DIR", "/env"), ("HERALD_TOKEN", "t")]),
        )
        .unwrap();
        assert_eq!(config.server.unwrap().as_str(), "http://env:2/");
        assert_eq!(config.data_dir, PathBuf::from("/env"));
        assert_eq!(config.token.as_deref(), Some("t"));
    }

    #[test]
    fn the_file_fills_in_what_env_leaves_out() {
        let file = FileConfig {
            server: Some("https://hub.example".into()),
            data_dir: Some("/file".into()),
            critical_breaks_through: Some(false),
            ca_file: Some("/file/ca.pem".into()),
        };
        let config = Config::resolve(file, env_of(&[])).unwrap();
        assert_eq!(config.server.unwrap().host_str(), Some("hub.example"));
        assert_eq!(config.data_dir, PathBuf::from("/file"));
        assert!(!config.critical_breaks_through);
        assert_eq!(config.ca_file, Some(PathBuf::from("/file/ca.pem")));
        let env = env_of(&[("HERALD_CA_FILE", "/env/ca.pem")]);
        let file = FileConfig { ca_file: Some("/file/ca.pem".into()), ..FileConfig::default() };
        assert_eq!(Config::resolve(file, env).unwrap().ca_file, Some(PathBuf::from("/env/ca.pem")));
    }

    #[test]
    fn critical_notifications_break_through_unless_turned_off() {
        assert!(
            Config::resolve(FileConfig::default(), env_of(&[("HERALD_DATA_DIR", "/d")]))
                .unwrap()
                .critical_breaks_through
        );
        let off = env_of(&[("HERALD_DATA_DIR", "/d"), ("HERALD_CRITICAL_BREAKS_THROUGH", "false")]);
        assert!(!Config::resolve(FileConfig::default(), off).unwrap().critical_breaks_through);
        let bad = env_of(&[("HERALD_DATA_DIR", "/d"), ("HERALD_CRITICAL_BREAKS_THROUGH", "maybe")]);
        assert!(matches!(Config::resolve(FileConfig::default(), bad), Err(ConfigError::BadFlag(_))));
    }

    #[test]
    fn a_bad_server_is_a_clear_error() {
        let err = Config::resolve(FileConfig::default(), env_of(&[("HERALD_SERVER", "not a url")])).unwrap_err();
        assert!(err.to_string().contains("HERALD_SERVER"), "{err}");
        assert!(matches!(
            Config::resolve(FileConfig::default(), env_of(&[("HERALD_SERVER", "ftp://x")])),
            Err(ConfigError::BadScheme(_))
        ));
    }

    #[test]
    fn each_data_dir_gets_its_own_socket() {
        let a = Config::resolve(
            FileConfig::default(),
            env_of(&[("HERALD_DATA_DIR", "/a"), ("XDG_RUNTIME_DIR", "/run/user/1")]),
        )
        .unwrap();
        let b = Config::resolve(
            FileConfig::default(),
            env_of(&[("HERALD_DATA_DIR", "/b"), ("XDG_RUNTIME_DIR", "/run/user/1")]),
        )
        .unwrap();
        assert_ne!(a.socket_path(), b.socket_path());
        // XDG's runtime dir on Unix; on Windows (where Wine may pass one on) the profile's own.
        let runtime = if cfg!(unix) { "/run/user/1/herald" } else { "/a/run" };
        assert!(a.socket_path().starts_with(runtime), "{}", a.socket_path().display());
        assert_eq!(a.socket_path(), a.clone().socket_path(), "stable");
    }
}
