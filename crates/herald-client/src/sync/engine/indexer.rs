//! The search indexer: keeps the mirror's search index up with its rows, off the sync path.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::mirror::SharedMirror;

/// Rows reach the search index in batches of this many, each its own transaction, so the feed's
/// writes never wait long behind the indexer.
const INDEX_BATCH: u32 = 2_000;

/// How long the indexer lets new rows gather before it indexes them. A live feed brings rows one
/// by one; indexed one transaction each, every row costs the search index a new segment to
/// merge, under the mirror's lock the feed waits on. Gathered for this long, a busy feed's rows
/// are indexed tens at a time (measured in `herald-bench live`, BENCHMARKS.md).
const INDEX_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

/// Keeps the search index up with the rows, off the sync path: catch-up makes rows visible at
/// once, and they become searchable moments later.
pub async fn index_in_background(mirror: SharedMirror, ready: Arc<Notify>) {
    loop {
        ready.notified().await;
        tokio::time::sleep(INDEX_DELAY).await;
        let mut indexed = 0;
        loop {
            match mirror.call(|m| m.index_some(INDEX_BATCH)).await {
                Ok(0) => break,
                Ok(n) => {
                    indexed += n;
                    tokio::task::yield_now().await
                }
                Err(e) => {
                    tracing::warn!(error = %e, "search indexing failed; will retry with the next changes");
                    break;
                }
            }
        }
        // A big catch-up indexed: the caches it filled are not needed while the agent idles.
        if indexed >= INDEX_BATCH as usize {
            let _ = mirror.call(|m| m.release_memory()).await;
        }
    }
}
