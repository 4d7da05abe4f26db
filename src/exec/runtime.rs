//! The one async runtime: fault proxies, the load generator and the GitHub client all run on
//! it, so a run never has several thread pools competing for the same cores.

use std::sync::OnceLock;

use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The shared runtime, started on first use.
pub fn get() -> crate::error::Result<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                // Two workers: the load generator and the proxies run at once on 2-core CI
                // machines; more threads would only take turns.
                .worker_threads(2)
                .thread_name("cargo-gate-async")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| crate::error::Error::Internal(format!("cannot start the async runtime: {e}")))
}
