//! `cargo gate proxy`: the fault proxy with no toxic, to measure its overhead or to debug.

use crate::error::{EXIT_PASS, Error, Result};
use crate::exec::process;

pub fn proxy(listen: &str, upstream: &str) -> Result<i32> {
    let runtime = crate::exec::runtime::get()?;
    process::install_signal_handler();
    runtime.block_on(async {
        let p = crate::suites::infra::proxy::Proxy::start(listen, upstream)
            .await
            .map_err(|e| Error::usage(format!("cannot proxy {listen} → {upstream}: {e}"), None))?;
        eprintln!("proxying {} → {upstream} (Ctrl-C to stop)", p.addr);
        while !process::is_cancelled() {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        Ok(EXIT_PASS)
    })
}
