//! Load scenarios against real local HTTP servers (examples/load_server.rs, on 127.0.0.1 only):
//! throughput, latency, error rate, open vs closed loop under stalls, thresholds.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::*;
use serde_json::Value;

/// The tests measure latency: one at a time, so they do not skew each other (a file lock works
/// across processes too, for process-per-test runners).
fn serial() -> std::fs::File {
    let dir = root().join("target").join("fixture-builds");
    std::fs::create_dir_all(&dir).unwrap();
    let f = std::fs::File::create(dir.join("load.lock")).unwrap();
    f.lock().unwrap();
    f
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server_binary() -> PathBuf {
    // `cargo test` builds the examples next to the test binaries' directory.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples").join("load_server")
}

fn server(args: &[&str]) -> Server {
    let mut child = Command::new(server_binary())
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (built by `cargo test`)", server_binary().display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the server says where it listens")
        .to_string();
    Server { child, addr }
}

fn run_load(dir: &Path) -> (i32, Value) {
    let out = output(gate("none").current_dir(dir).args([
        "run",
        "--suite",
        "load",
        "--no-baseline",
        "--progress",
        "lines",
        "--out-dir",
        "target/gate",
    ]));
    (code(&out), json(&dir.join("target/gate/report.json")))
}

fn stat(report: &Value, name: &str) -> f64 {
    let suite = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "load")
        .unwrap();
    suite["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"))["samples"][0]
        .as_f64()
        .unwrap()
}

fn scenario(name: &str, addr: &str, body: &str) -> String {
    format!("[[load]]\nname = \"{name}\"\nurl = \"http://{addr}/\"\n{body}\n")
}

#[test]
fn a_fast_server_gets_the_requested_rate_with_no_errors() {
    let _l = serial();
    let s = server(&[]);
    let dir = temp_workspace(&scenario(
        "fast",
        &s.addr,
        "rate = 300\nduration = \"2s\"\nwarmup = \"200ms\"\nthresholds = [\"rps > 250\", \"error_rate < 1%\"]",
    ));
    let (code, r) = run_load(dir.path());
    assert_eq!(code, 0);
    let requests = stat(&r, "load.fast.requests");
    assert!((570.0..=630.0).contains(&requests), "requests {requests}");
    let rps = stat(&r, "load.fast.rps");
    assert!((285.0..=315.0).contains(&rps), "rps {rps}");
    assert_eq!(stat(&r, "load.fast.error_rate"), 0.0);
    let timeline = r["suites"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "load.fast.timeline.rps")
        .unwrap();
    assert_eq!(
        timeline["samples"].as_array().unwrap().len(),
        2,
        "one point per second"
    );
    let case = &r["suites"][0]["cases"][0];
    assert!(
        case["message"].as_str().unwrap().contains("(target 300)"),
        "{case}"
    );
}

#[test]
fn latency_is_measured_accurately() {
    let _l = serial();
    let s = server(&["--delay-ms", "20"]);
    let dir = temp_workspace(&scenario(
        "slow",
        &s.addr,
        "rate = 100\nduration = \"2s\"\nthresholds = [\"p(50) < 40ms\"]",
    ));
    let (code, r) = run_load(dir.path());
    assert_eq!(code, 0);
    let p50 = stat(&r, "load.slow.med");
    assert!(
        (20.0..28.0).contains(&p50),
        "p50 {p50} ms with a 20 ms server"
    );
    assert!(stat(&r, "load.slow.min") >= 20.0);
    assert_eq!(
        stat(&r, "load.slow.p(50)"),
        p50,
        "percentiles named in rules are stored too"
    );
}

/// Requests that never left the queue are dropped, not sent: `rps` counts answers only. Two
/// connections to a 50 ms server answer 40 requests a second at most, whatever the machine (52
/// for the requests due in the 1 s window: answers go on for the 300 ms timeout after it).
#[test]
fn rps_counts_answered_requests_not_the_ones_never_sent() {
    let _l = serial();
    let s = server(&["--delay-ms", "50"]);
    let dir = temp_workspace(&scenario(
        "flood",
        &s.addr,
        "rate = 1000\nduration = \"1s\"\nconnections = 2\ntimeout = \"300ms\"\nthresholds = [\"rps > 500\"]",
    ));
    let (code, r) = run_load(dir.path());
    assert_eq!(code, 1, "40 answers a second cannot pass `rps > 500`");
    let rps = stat(&r, "load.flood.rps");
    assert!(
        rps <= 53.0,
        "rps {rps} counts requests that were never answered"
    );
    assert_eq!(
        stat(&r, "load.flood.requests"),
        1000.0,
        "every due request is counted"
    );
    let detail = r["suites"][0]["cases"][0]["detail"].as_str().unwrap();
    let count = |kind: &str| -> u64 {
        detail
            .lines()
            .find_map(|l| l.strip_prefix(kind))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    // Never sent (waited out the timeout in the queue), or sent with what was left of it and
    // not answered in time: a success is never slower than `timeout`, queueing included.
    assert!(count("dropped: ") + count("timeout: ") >= 900, "{detail}");
    // Latencies in ms; a timed-out request counts at its timeout.
    let max = stat(&r, "load.flood.max");
    assert!(
        max <= 330.0,
        "a request took {max} ms with a 300 ms timeout"
    );
}

#[test]
fn errors_are_counted_by_kind() {
    let _l = serial();
    let s = server(&["--fail-every", "20"]);
    let dir = temp_workspace(&scenario(
        "flaky",
        &s.addr,
        "rate = 400\nduration = \"2s\"\nthresholds = [\"error_rate < 1%\"]",
    ));
    let (code, r) = run_load(dir.path());
    assert_eq!(code, 1, "5 % errors break a 1 % threshold");
    let rate = stat(&r, "load.flaky.error_rate");
    assert!((4.5..=5.5).contains(&rate), "error rate {rate} %");
    assert!(
        r["suites"][0]["cases"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("http_5xx: ")
    );
    let gate = &r["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["rule"] == "load.flaky: error_rate < 1%")
        .unwrap();
    assert_eq!(gate["status"], "failed");

    // Nobody listening: every request is a connection error.
    drop(s);
    let dir = temp_workspace(&scenario(
        "down",
        "127.0.0.1:9",
        "rate = 50\nduration = \"1s\"\ntimeout = \"500ms\"",
    ));
    let (_, r) = run_load(dir.path());
    assert_eq!(stat(&r, "load.down.error_rate"), 100.0);
    assert!(
        r["suites"][0]["cases"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("connection: ")
    );
}

#[test]
fn open_loop_shows_a_stall_that_closed_loop_hides() {
    let _l = serial();
    let s = server(&["--stall-ms", "200", "--stall-period-ms", "1000"]);
    let toml = format!(
        "{}{}",
        scenario("open", &s.addr, "rate = 200\nduration = \"3s\""),
        scenario("closed", &s.addr, "users = 2\nduration = \"3s\""),
    );
    let dir = temp_workspace(&toml);
    let (code, r) = run_load(dir.path());
    assert_eq!(code, 0);
    let open_p99 = stat(&r, "load.open.p(99)");
    let closed_p99 = stat(&r, "load.closed.p(99)");
    let closed_max = stat(&r, "load.closed.max");
    eprintln!("open p99 {open_p99} ms, closed p99 {closed_p99} ms, closed max {closed_max} ms");
    assert!(
        open_p99 >= 100.0,
        "open loop p99 {open_p99} ms must show the 200 ms stall"
    );
    assert!(
        closed_p99 < 20.0,
        "closed loop p99 {closed_p99} ms hides it"
    );
    assert!(
        closed_max >= 100.0,
        "although the closed loop did wait through it"
    );
}

#[test]
fn abort_on_fail_stops_a_lost_scenario_early() {
    let _l = serial();
    let s = server(&["--delay-ms", "20"]);
    let dir = temp_workspace(&scenario(
        "doomed",
        &s.addr,
        "rate = 100\nduration = \"20s\"\nthresholds = [\"p(95) < 5ms\"]\nabort_on_fail = true",
    ));
    let started = std::time::Instant::now();
    let (code, r) = run_load(dir.path());
    assert_eq!(code, 1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "stopped well before 20 s"
    );
    let detail = r["suites"][0]["cases"][0]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("stopped early: `p(95) < 5ms` can no longer pass"),
        "{detail}"
    );
}

#[test]
fn bad_thresholds_and_rules_are_config_errors_with_locations() {
    let check = |toml: &str| {
        let dir = temp_workspace(toml);
        output(gate("none").current_dir(dir.path()).arg("check"))
    };
    let out = check(
        "[[load]]\nname = \"api\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\nduration = \"1s\"\nthresholds = [\"q95 < 200ms\"]\n",
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("gate.toml:6:16: unknown statistic `q95`"),
        "{}",
        stderr(&out)
    );
    let out = check(
        "[[load]]\nname = \"api\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\nduration = \"1s\"\nthresholds = [\"p(95) < 2 lightyears\"]\n",
    );
    assert!(
        stderr(&out).contains("is not a time unit"),
        "{}",
        stderr(&out)
    );
    let out = check(
        "[[load]]\nname = \"api\"\nurl = \"ftp://example.com/\"\nrate = 10\nduration = \"1s\"\n",
    );
    assert!(
        stderr(&out)
            .contains("gate.toml:3:8: `ftp://example.com/` is not an http:// or https:// URL"),
        "{}",
        stderr(&out)
    );
    let out = check(
        "[[load]]\nname = \"api\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\nusers = 2\nduration = \"1s\"\n",
    );
    assert!(
        stderr(&out).contains("sets both a rate and users"),
        "{}",
        stderr(&out)
    );
    let out = check(
        "[[load]]\nname = \"api\"\nurl = \"http://127.0.0.1:1/\"\nusers = 2\nduration = \"1s\"\npacing_slack = \"1ms\"\n",
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("gate.toml:6:17: `pacing_slack` paces an open loop"),
        "{}",
        stderr(&out)
    );
    let out = check(
        "[[load]]\nname = \"api\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\nduration = \"1s\"\npacing_slack = \"1s\"\n",
    );
    assert!(
        stderr(&out).contains("`pacing_slack` is above 100ms"),
        "{}",
        stderr(&out)
    );
    let out = check("[[load]]\nname = \"api\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\n");
    assert!(
        stderr(&out).contains("has no `duration`"),
        "{}",
        stderr(&out)
    );
    let out = check("[gate]\nfail = [\"load.api.q99 < 1s\"]\n");
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("unknown load statistic `q99`"),
        "{}",
        stderr(&out)
    );
    let out = check(
        "[[load]]\nname = \"api\"\nurl = \"http://127.0.0.1:1/\"\nrate = 10\nduration = \"1s\"\nthresholds = [\"p(99.9) < 1s\"]\n[gate]\nwarn = [\"load.api.p(99.9) < 500ms\", \"load.*.regression < 10%\"]\n",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_uses_http2_when_the_server_offers_it() {
    let _l = serial();
    for (h2, protocol) in [(true, "HTTP/2"), (false, "HTTP/1.1")] {
        let (port, ca) = tls_server(h2).await;
        let dir = temp_workspace(&format!(
            "[[load]]\nname = \"tls\"\nurl = \"https://localhost:{port}/\"\nca = \"ca.pem\"\nrate = 100\nduration = \"1s\"\nthresholds = [\"error_rate == 0%\"]\n"
        ));
        std::fs::write(dir.path().join("ca.pem"), ca).unwrap();
        let path = dir.path().to_path_buf();
        let (code, r) = tokio::task::spawn_blocking(move || run_load(&path))
            .await
            .unwrap();
        assert_eq!(code, 0, "{r}");
        assert_eq!(stat(&r, "load.tls.requests"), 100.0);
        let detail = r["suites"][0]["cases"][0]["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("protocol: {protocol}")),
            "{detail}"
        );
    }
    // Without the CA the certificate is not trusted: every request is a connection error.
    let (port, _) = tls_server(true).await;
    let dir = temp_workspace(&format!(
        "[[load]]\nname = \"tls\"\nurl = \"https://localhost:{port}/\"\nrate = 20\nduration = \"1s\"\n"
    ));
    let path = dir.path().to_path_buf();
    let (_, r) = tokio::task::spawn_blocking(move || run_load(&path))
        .await
        .unwrap();
    assert_eq!(stat(&r, "load.tls.error_rate"), 100.0);
}

/// With a slack the generator sends what fell due on a coarser clock, and that lateness counts
/// in the latency (measured from when each request was due): at 100 requests a second and a
/// 50 ms slack, requests go out in fives, late by 40, 30, 20, 10 and 0 ms — a median of at
/// least 10 ms against a server that answers at once, every request sent.
#[test]
fn pacing_slack_batches_the_sends_and_counts_the_lateness() {
    let _l = serial();
    let s = server(&[]);
    let dir = temp_workspace(&scenario(
        "coarse",
        &s.addr,
        "rate = 100\nduration = \"1s\"\npacing_slack = \"50ms\"\n",
    ));
    let (code, r) = run_load(dir.path());
    assert_eq!(code, 0, "{r}");
    assert_eq!(stat(&r, "load.coarse.requests"), 100.0);
    assert_eq!(stat(&r, "load.coarse.error_rate"), 0.0);
    let p50 = stat(&r, "load.coarse.med");
    assert!(p50 >= 10.0, "p50 {p50} ms: the lateness is counted");
}

/// A scenario in which no request succeeded measured nothing of the service: nothing listens
/// on the port, so every request fails to connect, and the case fails with how many and why
/// (no thresholds to catch it).
#[test]
fn a_scenario_where_every_request_fails_fails_its_case() {
    let _l = serial();
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = temp_workspace(&scenario(
        "down",
        &format!("127.0.0.1:{port}"),
        "rate = 20\nduration = \"1s\"\n",
    ));
    let (code, report) = run_load(dir.path());
    assert_eq!(code, 1, "{report}");
    let c = case(&report, "load down");
    assert_eq!(c["status"], "failed", "{c}");
    let message = c["message"].as_str().unwrap();
    assert!(message.starts_with("no request succeeded: "), "{message}");
    assert!(message.contains("could not connect"), "{message}");
    let gate = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["rule"] == "load.failed == 0")
        .unwrap();
    assert_eq!(gate["status"], "failed", "{gate}");
}

/// A service that dies while a scenario runs fails the scenario with how and when, even when
/// the figures pass (here the load aims at another server that stays up).
#[test]
fn a_service_that_dies_under_load_fails_the_scenario() {
    let _l = serial();
    let s = server(&[]);
    let toml = format!(
        "[[service]]\nname = \"worker\"\ncmd = [\"sh\", \"-c\", \"sleep 0.5; echo out of memory; kill -9 $$\"]\n{}",
        scenario("steady", &s.addr, "rate = 50\nduration = \"1500ms\"")
    );
    let dir = temp_workspace(&toml);
    let (code, r) = run_load(dir.path());
    assert_eq!(code, 1, "{r}");
    let load = r["suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "load")
        .unwrap();
    let case = &load["cases"][0];
    let msg = case["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("service `worker` was killed by signal 9 (SIGKILL) "),
        "{msg}"
    );
    let detail = case["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("its last output:\nout of memory"),
        "{detail}"
    );
    // The scenario's own figures are still there.
    assert!(detail.contains("protocol: HTTP/1.1"), "{detail}");
}
