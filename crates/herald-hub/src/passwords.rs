//! Passwords: argon2id with the argon2 crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's
//! recommended minimum), stored as PHC strings. Hashing runs on [`HASHERS`] threads of its own,
//! so a flood of sign-ins leaves the runtime free and costs bounded memory: the allocator keeps
//! each thread's 19 MiB for its next use, and on tokio's blocking pool that was one copy per
//! blocking thread (40 sign-ins grew the hub from 34 to 190 MB).
//!
//! A user with no password, or a user who does not exist, is checked against a fixed hash made
//! once, so a wrong name and a wrong password take the same time and give the same answer.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, LazyLock, Mutex};

use std::cell::RefCell;

use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Threads that hash and check passwords, so argon2 computations at once (each holds 19 MiB).
const HASHERS: usize = 2;
/// Longest password taken: a password of megabytes would only cost hashing time.
pub const MAX_PASSWORD_BYTES: usize = 1_024;

/// Waiters beyond the hashers queue here, without a thread or a copy of the work.
static SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(HASHERS)));

type Job = Box<dyn FnOnce() + Send>;

/// The hashers' queue.
static POOL: LazyLock<Mutex<Sender<Job>>> = LazyLock::new(|| {
    let (jobs, queue) = channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..HASHERS {
        let queue: Arc<Mutex<Receiver<Job>>> = queue.clone();
        std::thread::Builder::new()
            .name(format!("herald-passwords-{n}"))
            .spawn(move || loop {
                let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            })
            .expect("starting a password thread");
    }
    Mutex::new(jobs)
});

/// `work` on a password thread, once a slot is free; None if the pool is gone.
async fn on_hasher<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _slot = SLOTS.clone().acquire_owned().await.ok()?;
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    POOL.lock().unwrap_or_else(|p| p.into_inner()).send(job).ok()?;
    result.await.ok()
}

/// What `verify` checks a missing hash against: the same work as a real one.
static DECOY: LazyLock<String> = LazyLock::new(|| hash_now("herald decoy password").expect("argon2 hashes"));

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is empty")]
    Empty,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// A password people can type: not empty, at most [`MAX_PASSWORD_BYTES`].
pub fn check(password: &str) -> Result<(), PasswordError> {
    if password.is_empty() {
        return Err(PasswordError::Empty);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

/// Most argon2 memory a stored hash may ask for (a tampered row must not make the hub allocate
/// gigabytes): 64 MiB.
const MAX_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// Each password thread's argon2 memory, allocated once and reused: the allocator then has
    /// nothing to keep after a hash.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// argon2id of `password` with `salt` and `params` into `out`, in this thread's memory.
fn argon2_into(password: &[u8], salt: &[u8], params: Params, out: &mut [u8]) -> Result<(), PasswordError> {
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return Err(PasswordError::Hash(format!("{blocks} KiB of argon2 memory is more than this hub allows")));
    }
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
}

fn hash_now(password: &str) -> Result<String, PasswordError> {
    let failed = |e: argon2::password_hash::Error| PasswordError::Hash(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.as_salt().decode_b64(&mut salt_bytes).map_err(failed)?;
    let params = Params::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(password.as_bytes(), salt_raw, params.clone(), &mut out)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(failed)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` hashes to the PHC string `phc` (argon2id only).
fn matches(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    let Ok(params) = Params::try_from(&parsed) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    if argon2_into(password.as_bytes(), salt_raw, params, &mut out).is_err() {
        return false;
    }
    // Constant time: every byte is compared whatever the first difference.
    out.iter().zip(expected.as_bytes()).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

/// The PHC string to store for `password`.
pub async fn hash(password: &str) -> Result<String, PasswordError> {
    check(password)?;
    let password = password.to_owned();
    on_hasher(move || hash_now(&password)).await.ok_or_else(|| PasswordError::Hash("no password thread".into()))?
}

/// Whether `password` matches `stored`; `None` (no such user, or no password set) never
/// matches but costs the same.
pub async fn verify(password: &str, stored: Option<String>) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let password = password.to_owned();
    on_hasher(move || {
        let real = stored.is_some();
        let phc = stored.unwrap_or_else(|| DECOY.clone());
        let matched = matches(&password, &phc);
        real && matched
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let (a, b) = (hash("correct horse").await.unwrap(), hash("correct horse").await.unwrap());
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("correct horse"));
        assert!(verify("correct horse", Some(a.clone())).await);
        assert!(!verify("correct horsf", Some(a)).await);
        assert!(!verify("herald decoy password", None).await, "the decoy never lets anyone in");
    }

    #[test]
    fn hashes_are_standard_phc_strings_that_the_argon2_crate_verifies() {
        use argon2::password_hash::PasswordVerifier;
        let phc = hash_now("correct horse").unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok(), "{phc}");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        // And one the crate made checks here.
        use argon2::password_hash::PasswordHasher;
        let theirs = Argon2::default().hash_password(b"staple", &SaltString::generate(&mut OsRng)).unwrap().to_string();
        assert!(matches("staple", &theirs) && !matches("stapler", &theirs));
    }

    #[test]
    fn empty_and_huge_passwords_are_refused() {
        assert!(matches!(check(""), Err(PasswordError::Empty)));
        assert!(matches!(check(&"x".repeat(MAX_PASSWORD_BYTES + 1)), Err(PasswordError::TooLong)));
    }
}
