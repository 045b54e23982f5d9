//! A notification's id in the mirror: the hub's id for account 1, and the hub's id plus
//! `(account - 1) << 40` for the others. Two hubs' ids never collide, a one-account mirror keeps
//! the hub's ids (so `herald read 42` means the hub's 42), and one account's rows are one range
//! of the primary key. Windows, toasts and the CLI only ever see mirror ids; the sync engine
//! turns them into the hub's on the way out and back on the way in.
//!
//! 40 bits leave a hub 10^12 notifications; 8,192 accounts keep every id within a JavaScript
//! number's 2^53, so the inbox window reads them exactly.

use super::MirrorError;

/// Which account, 1-based (the `accounts` table's id).
pub type AccountId = i64;

const SHIFT: u32 = 40;
const HUB_ID_MASK: i64 = (1 << SHIFT) - 1;
pub const MAX_ACCOUNTS: AccountId = 8192;

/// The mirror id of the hub's notification `hub_id` in `account`.
pub fn local(account: AccountId, hub_id: i64) -> Result<i64, MirrorError> {
    if !(0..=HUB_ID_MASK).contains(&hub_id) {
        return Err(MirrorError::Corrupt(format!("the hub sent id {hub_id}, beyond what the mirror can hold")));
    }
    Ok(((account - 1) << SHIFT) | hub_id)
}

/// The account a mirror id belongs to.
pub fn account_of(local_id: i64) -> AccountId {
    (local_id >> SHIFT) + 1
}

/// The hub's id of a mirror id.
pub fn hub(local_id: i64) -> i64 {
    local_id & HUB_ID_MASK
}

/// The mirror ids of `account`: `first..=last`.
pub fn range(account: AccountId) -> (i64, i64) {
    let first = (account - 1) << SHIFT;
    (first, first | HUB_ID_MASK)
}

/// A live event's id as windows see it: the hub's for account 1, `hub_id@account` for the
/// others (hub event ids are hex, so the `@` is never theirs).
pub fn local_event(account: AccountId, hub_event_id: &str) -> String {
    if account == 1 {
        hub_event_id.to_owned()
    } else {
        format!("{hub_event_id}@{account}")
    }
}

/// The account and the hub's id of a live event id made by [`local_event`].
pub fn split_event(local_event_id: &str) -> (AccountId, &str) {
    match local_event_id.rsplit_once('@') {
        Some((hub_id, account)) => match account.parse::<AccountId>() {
            Ok(account) if account >= 2 => (account, hub_id),
            _ => (1, local_event_id),
        },
        None => (1, local_event_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_account_keeps_the_hubs_ids_and_others_never_collide() {
        assert_eq!(local(1, 42).unwrap(), 42);
        let other = local(2, 42).unwrap();
        assert_ne!(other, 42);
        assert_eq!((account_of(other), hub(other)), (2, 42));
        assert_eq!((account_of(42), hub(42)), (1, 42));
        let (first, last) = range(2);
        assert!(first <= other && other <= last && last < range(3).0);
        assert!(local(MAX_ACCOUNTS, HUB_ID_MASK).unwrap() < (1 << 53), "exact in JavaScript");
        assert!(local(1, 1 << 40).is_err());
        assert!(local(1, -1).is_err());
    }

    #[test]
    fn live_event_ids_carry_their_account() {
        assert_eq!(split_event(&local_event(1, "ab12")), (1, "ab12"));
        assert_eq!(split_event(&local_event(3, "ab12")), (3, "ab12"));
        assert_eq!(split_event("odd@x"), (1, "odd@x"));
    }
}
