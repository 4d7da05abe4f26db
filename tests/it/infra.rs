//! Services, checks and chaos experiments with a real service (fixtures/service) on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

/// Builds fixtures/service once (cargo serializes concurrent builds) and returns its binary.
fn service_bin() -> PathBuf {
    let target = root().join("target").join("fixture-builds").join("service");
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--manifest-path"])
        .arg(manifest("service"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("debug").join("service")
}

fn run(dir: &Path, suites: &[&str]) -> (i32, Value) {
    let mut cmd = gate("none");
    cmd.current_dir(dir)
        .args(["run", "--progress", "lines", "--out-dir", "target/gate"]);
    for s in suites {
        cmd.args(["--suite", s]);
    }
    let out = output(&mut cmd);
    (code(&out), json(&dir.join("target/gate/report.json")))
}

fn case<'a>(report: &'a Value, kind: &str, id: &str) -> &'a Value {
    report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} suite: {report}"))["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}: {report}"))
}

/// A metric of the chaos suite, by name.
fn chaos_metric(report: &Value, name: &str) -> Option<f64> {
    report["suites"]
        .as_array()?
        .iter()
        .find(|s| s["kind"] == "chaos")?["metrics"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == name)?["samples"][0]
        .as_f64()
}

/// No live process is left whose command line holds `--port {port}`.
fn assert_nothing_left(port: u16) {
    assert_no_process(&format!("--port\0{port}"));
}

/// No live process is left whose command line holds `needle` (given 5 s to finish dying).
fn assert_no_process(needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive: Vec<i32> = processes(|c| c.contains(needle))
            .into_iter()
            .filter(|(_, state)| *state != 'Z')
            .map(|(pid, _)| pid)
            .collect();
        if alive.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes left running: {alive:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn service_toml(bin: &Path, port: u16, extra_args: &str, ready: bool) -> String {
    let ready = if ready {
        format!("ready = {{ http = \"http://127.0.0.1:{port}/health\", within = \"20s\" }}\n")
    } else {
        String::new()
    };
    format!(
        "[[service]]\nname = \"api\"\ncmd = [\"{}\", \"--port\", \"{port}\"{extra_args}]\n{ready}stop_grace = \"1s\"\n",
        bin.display()
    )
}

#[test]
fn a_check_passes_after_a_delayed_start_thanks_to_retry() {
    let bin = service_bin();
    let port = 18511;
    let toml = format!(
        "{}[[check]]\nname = \"health\"\nhttp = {{ url = \"http://127.0.0.1:{port}/health\", expect = [\"json:/status == up\"] }}\nretry = {{ within = \"10s\", every = \"100ms\" }}\n[[check]]\nname = \"v6\"\ntcp = {{ address = \"[::1]:{{V6}}\" }}\n",
        service_toml(&bin, port, ", \"--start-delay-ms\", \"700\"", false)
    );
    // An IPv6 listener for the tcp check, held by the test.
    let v6 = std::net::TcpListener::bind("[::1]:0").unwrap();
    let toml = toml.replace("{V6}", &v6.local_addr().unwrap().port().to_string());
    let dir = temp_workspace(&toml);
    let (code, r) = run(dir.path(), &["infra"]);
    assert_eq!(code, 0, "{r}");
    let health = case(&r, "infra", "check health");
    assert_eq!(health["status"], "passed");
    assert!(
        health["message"].as_str().unwrap().contains("(attempt "),
        "{health}"
    );
    assert_eq!(case(&r, "infra", "check v6")["status"], "passed");
    assert_eq!(case(&r, "infra", "service api")["status"], "passed");
    assert_nothing_left(port);
}

#[test]
fn a_service_that_never_becomes_ready_is_reported_and_the_rest_still_runs() {
    let bin = service_bin();
    let port = 18512;
    let toml = format!(
        "[[service]]\nname = \"api\"\ncmd = [\"{}\", \"--port\", \"{port}\", \"--start-delay-ms\", \"60000\"]\nready = {{ http = \"http://127.0.0.1:{port}/health\", within = \"1s\" }}\n[[service]]\nname = \"worker\"\ncmd = [\"sleep\", \"60\"]\nafter = [\"api\"]\n[[check]]\nname = \"manifest\"\nfile = {{ path = \"Cargo.toml\", contains = [\"name = \\\"scratch\\\"\"], mode = \"0644\" }}\n",
        bin.display()
    );
    let dir = temp_workspace(&toml);
    let started = Instant::now();
    let (code, r) = run(dir.path(), &["infra"]);
    assert_eq!(code, 1);
    assert!(started.elapsed() < Duration::from_secs(30));
    let api = case(&r, "infra", "service api");
    assert_eq!(api["status"], "failed");
    assert!(
        api["message"]
            .as_str()
            .unwrap()
            .starts_with("not ready within 1.00s"),
        "{api}"
    );
    let worker = case(&r, "infra", "service worker");
    assert!(
        worker["message"]
            .as_str()
            .unwrap()
            .contains("starts after `api`, which is not ready")
    );
    assert_eq!(case(&r, "infra", "check manifest")["status"], "passed");
    assert_eq!(
        r["gates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["rule"] == "infra.failed == 0")
            .unwrap()["status"],
        "failed"
    );
    assert_nothing_left(port);
}

#[test]
fn an_experiment_passes_when_the_service_recovers_from_a_crash() {
    let bin = service_bin();
    let port = 18513;
    let toml = format!(
        "{}[[check]]\nname = \"health\"\nhttp = {{ url = \"http://127.0.0.1:{port}/health\", status = 200 }}\n[[chaos]]\nname = \"crash\"\nsteady_state = [\"health\"]\nfault = {{ kind = \"kill\", target = \"api\" }}\nduration = \"500ms\"\nduring = {{ every = \"100ms\", max_failure_ratio = 1.0 }}\nrecover_within = \"15s\"\n",
        service_toml(&bin, port, "", true)
    );
    let dir = temp_workspace(&toml);
    let (code, r) = run(dir.path(), &["chaos"]);
    assert_eq!(code, 0, "{r}");
    let x = case(&r, "chaos", "chaos crash");
    assert_eq!(x["status"], "passed");
    let log = x["detail"].as_str().unwrap();
    assert!(log.contains("fault: killed `api`"), "{log}");
    assert!(log.contains("during the fault: "), "{log}");
    assert_eq!(
        chaos_metric(&r, "chaos.crash.failure_ratio"),
        Some(100.0),
        "a killed service fails every probe"
    );
    assert_nothing_left(port);
}

#[test]
fn an_experiment_fails_during_the_fault_and_rollback_still_runs() {
    let bin = service_bin();
    let port = 18514;
    let proxy = 18515;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("rolled-back");
    let toml = format!(
        "{}[[proxy]]\nname = \"api\"\nlisten = \"127.0.0.1:{proxy}\"\nupstream = \"127.0.0.1:{port}\"\n[[check]]\nname = \"fast\"\nhttp = {{ url = \"http://127.0.0.1:{proxy}/health\", max_time = \"100ms\" }}\n[[chaos]]\nname = \"slow network\"\nsteady_state = [\"fast\"]\nfault = {{ kind = \"latency\", target = \"api\", latency = \"300ms\" }}\nduration = \"1s\"\nduring = {{ every = \"100ms\", max_failure_ratio = 0.2 }}\nrecover_within = \"5s\"\nrollback = [[\"touch\", \"{}\"]]\n",
        service_toml(&bin, port, "", true),
        marker.display()
    );
    let ws = temp_workspace(&toml);
    let (code, r) = run(ws.path(), &["chaos"]);
    assert_eq!(code, 1);
    let x = case(&r, "chaos", "chaos slow network");
    assert_eq!(x["status"], "failed");
    let msg = x["message"].as_str().unwrap();
    assert!(
        msg.contains("probes failed during the fault") && msg.contains("at most 20 % allowed"),
        "{msg}"
    );
    assert!(
        marker.exists(),
        "the rollback command ran although the experiment failed"
    );
    assert!(
        x["detail"]
            .as_str()
            .unwrap()
            .contains("steady state back after"),
        "the toxic was removed"
    );
    assert_nothing_left(port);
}

#[test]
fn an_experiment_fails_when_recovery_is_too_slow() {
    let bin = service_bin();
    let port = 18516;
    let toml = format!(
        "{}[[check]]\nname = \"health\"\nhttp = {{ url = \"http://127.0.0.1:{port}/health\" }}\nretry = {{ within = \"20s\" }}\n[[chaos]]\nname = \"slow restart\"\nsteady_state = [\"health\"]\nfault = {{ kind = \"kill\", target = \"api\" }}\nduration = \"200ms\"\nrecover_within = \"500ms\"\n",
        service_toml(&bin, port, ", \"--start-delay-ms\", \"1500\"", true)
    );
    let dir = temp_workspace(&toml);
    let (code, r) = run(dir.path(), &["chaos"]);
    assert_eq!(code, 1);
    let x = case(&r, "chaos", "chaos slow restart");
    assert_eq!(x["status"], "failed");
    let msg = x["message"].as_str().unwrap();
    assert!(
        msg.starts_with("the steady state did not come back within 500ms"),
        "{msg}"
    );
    assert_nothing_left(port);
}

#[test]
fn bad_infra_config_is_located() {
    let check = |toml: &str| {
        let dir = temp_workspace(toml);
        output(gate("none").current_dir(dir.path()).arg("check"))
    };
    let svc = "[[service]]\nname = \"api\"\ncmd = [\"true\"]\n[[check]]\nname = \"h\"\ntcp = { address = \"127.0.0.1:1\" }\n";
    let out = check(&format!(
        "{svc}[[chaos]]\nname = \"x\"\nfault = {{ kind = \"meteor\", target = \"api\" }}\n"
    ));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("gate.toml:9:19: unknown fault kind `meteor`"),
        "{}",
        stderr(&out)
    );
    let out = check(&format!(
        "{svc}[[chaos]]\nname = \"x\"\nfault = {{ kind = \"kill\", target = \"db\" }}\n"
    ));
    assert!(
        stderr(&out).contains("gate.toml:9:36: fault `kill` targets unknown service `db`"),
        "{}",
        stderr(&out)
    );
    let out = check(&format!(
        "{svc}[[chaos]]\nname = \"x\"\nfault = {{ kind = \"kill\", target = \"api\" }}\nrecover_within = \"soon\"\n"
    ));
    assert!(
        stderr(&out).contains("gate.toml:10:19:"),
        "{}",
        stderr(&out)
    );
    let out = check(&format!(
        "{svc}[[chaos]]\nname = \"x\"\nsteady_state = [\"nope\"]\nfault = {{ kind = \"kill\", target = \"api\" }}\n"
    ));
    assert!(
        stderr(&out).contains("no [[check]] called `nope`"),
        "{}",
        stderr(&out)
    );
    let out = check(
        "[[service]]\nname = \"a\"\ncmd = [\"true\"]\nafter = [\"b\"]\n[[service]]\nname = \"b\"\ncmd = [\"true\"]\nafter = [\"a\"]\n",
    );
    assert!(
        stderr(&out).contains("cycle: a → b → a"),
        "{}",
        stderr(&out)
    );
    let out = check(
        "[[check]]\nname = \"x\"\nhttp = { url = \"http://127.0.0.1:1/\", expect = [\"/(/\"] }\n",
    );
    assert!(stderr(&out).contains("invalid regex"), "{}", stderr(&out));
}

#[test]
fn the_service_fixture_runs_one_experiment_of_each_fault_family() {
    service_bin();
    let out_dir = tempfile::tempdir().unwrap();
    let mut cmd = gate("service");
    cmd.args([
        "run",
        "--suite",
        "infra",
        "--suite",
        "chaos",
        "--progress",
        "lines",
        "--manifest-path",
    ])
    .arg(manifest("service"))
    .arg("--out-dir")
    .arg(out_dir.path());
    let out = output(&mut cmd);
    assert_eq!(code(&out), 0);
    let r = json(&out_dir.path().join("report.json"));
    for x in [
        "survives a crash",
        "tolerates latency",
        "failpoint on health",
    ] {
        assert_eq!(
            case(&r, "chaos", &format!("chaos {x}"))["status"],
            "passed",
            "{x}"
        );
    }
    for c in ["health", "port", "manifest", "cargo"] {
        assert_eq!(
            case(&r, "infra", &format!("check {c}"))["status"],
            "passed",
            "{c}"
        );
    }
    let failpoint = case(&r, "chaos", "chaos failpoint on health");
    assert!(
        failpoint["detail"].as_str().unwrap().contains("FAILPOINTS"),
        "{failpoint}"
    );
    assert_nothing_left(18480);
}

#[test]
fn clock_skew_shifts_the_service_clock_through_the_built_in_shim() {
    // The shim is built by build.rs and embedded: no system package is needed.
    let bin = service_bin();
    let port = 18517;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (p, q) = (now / 100_000, now / 100_000 + 1);
    let toml = format!(
        "{}[[check]]\nname = \"clock\"\nhttp = {{ url = \"http://127.0.0.1:{port}/time\", expect = [\"/\\\"now\\\": ({p}|{q})\\\\d{{5}}/\"] }}\n[[chaos]]\nname = \"ten days ahead\"\nsteady_state = [\"clock\"]\nfault = {{ kind = \"clock_skew\", target = \"api\", offset = \"+10d\" }}\nduration = \"600ms\"\nduring = {{ every = \"100ms\", max_failure_ratio = 0.5 }}\nrecover_within = \"15s\"\n",
        service_toml(&bin, port, "", true)
    );
    let dir = temp_workspace(&toml);
    let (code, r) = run(dir.path(), &["chaos"]);
    let x = case(&r, "chaos", "chaos ten days ahead");
    assert_eq!(code, 1, "{x}");
    let msg = x["message"].as_str().unwrap();
    assert!(
        msg.contains("probes failed during the fault"),
        "the skewed clock failed the clock check: {msg}"
    );
    let log = x["detail"].as_str().unwrap();
    assert!(
        log.contains("CARGO_GATE_CLOCK_OFFSET_NS=864000000000000"),
        "{log}"
    );
    assert!(
        log.contains("steady state back after"),
        "the clock is right again after the rollback: {log}"
    );
    assert_nothing_left(port);
}

#[test]
fn disk_full_and_a_file_size_limit_make_writes_fail() {
    let bin = service_bin();
    for (port, fault) in [
        (
            18518u16,
            "{ kind = \"disk_full\", target = \"api\", path_env = \"DATA_FILE\" }",
        ),
        (
            18519u16,
            "{ kind = \"disk_full\", target = \"api\", bytes = \"0\" }",
        ),
    ] {
        let data = tempfile::tempdir().unwrap();
        let toml = format!(
            "[[service]]\nname = \"api\"\ncmd = [\"{}\", \"--port\", \"{port}\"]\nenv = {{ DATA_FILE = \"{}\" }}\nready = {{ http = \"http://127.0.0.1:{port}/health\", within = \"20s\" }}\n[[check]]\nname = \"work\"\nhttp = {{ url = \"http://127.0.0.1:{port}/work\", status = 200 }}\n[[chaos]]\nname = \"disk\"\nsteady_state = [\"work\"]\nfault = {fault}\nduration = \"500ms\"\nduring = {{ every = \"100ms\", max_failure_ratio = 0.5 }}\nrecover_within = \"15s\"\n",
            bin.display(),
            data.path().join("data.log").display()
        );
        let dir = temp_workspace(&toml);
        let (code, r) = run(dir.path(), &["chaos"]);
        let x = case(&r, "chaos", "chaos disk");
        assert_eq!(code, 1, "{x}");
        assert!(
            x["message"]
                .as_str()
                .unwrap()
                .contains("probes failed during the fault"),
            "{x}"
        );
        assert!(
            x["detail"]
                .as_str()
                .unwrap()
                .contains("steady state back after"),
            "{x}"
        );
        assert_nothing_left(port);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_checks_trust_the_configured_ca() {
    let (port, ca) = tls_server(true).await;
    let toml = format!(
        "[[check]]\nname = \"trusted\"\nhttp = {{ url = \"https://localhost:{port}/\", ca = \"ca.pem\", expect = [\"ok\"] }}\n[[check]]\nname = \"untrusted\"\nhttp = {{ url = \"https://localhost:{port}/\" }}\n"
    );
    let dir = temp_workspace(&toml);
    std::fs::write(dir.path().join("ca.pem"), ca).unwrap();
    let path = dir.path().to_path_buf();
    let (code, r) = tokio::task::spawn_blocking(move || run(&path, &["infra"]))
        .await
        .unwrap();
    assert_eq!(code, 1);
    assert_eq!(
        case(&r, "infra", "check trusted")["status"],
        "passed",
        "{r}"
    );
    let untrusted = case(&r, "infra", "check untrusted");
    assert_eq!(untrusted["status"], "failed");
    assert!(
        untrusted["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("certificate"),
        "{untrusted}"
    );
}

#[test]
fn cpu_and_memory_limits_make_the_service_fail_until_it_is_restarted() {
    let bin = service_bin();
    // Each probe of /burn spends 200 ms of CPU, so a 1 s limit ends the service after five
    // probes; /alloc reserves 1 GiB, more than a 512 MB address-space limit allows. The
    // experiment fails on the first failed probe (ratio 0), so it does not depend on how many
    // probes fit in the window: on a busy machine the five probes take longer, and the window
    // (8 s, eight times what they take on an idle one) still holds them.
    for (port, fault, path, window) in [
        (
            18520u16,
            "{ kind = \"cpu\", target = \"api\", seconds = 1 }",
            "burn",
            "8s",
        ),
        (
            18521u16,
            "{ kind = \"memory\", target = \"api\", bytes = \"512MB\" }",
            "alloc",
            "2s",
        ),
    ] {
        let toml = format!(
            "[[service]]\nname = \"api\"\ncmd = [\"{}\", \"--port\", \"{port}\"]\nready = {{ http = \"http://127.0.0.1:{port}/health\", within = \"20s\" }}\n[[check]]\nname = \"{path}\"\nhttp = {{ url = \"http://127.0.0.1:{port}/{path}\", status = 200 }}\n[[chaos]]\nname = \"limit\"\nsteady_state = [\"{path}\"]\nfault = {fault}\nduration = \"{window}\"\nduring = {{ every = \"100ms\", max_failure_ratio = 0.0 }}\nrecover_within = \"15s\"\n",
            bin.display(),
        );
        let dir = temp_workspace(&toml);
        let (code, r) = run(dir.path(), &["chaos"]);
        let x = case(&r, "chaos", "chaos limit");
        assert_eq!(code, 1, "{path}: {x}");
        let message = x["message"].as_str().unwrap();
        assert!(
            message.contains("probes failed during the fault"),
            "{path}: {x}"
        );
        let detail = x["detail"].as_str().unwrap();
        assert!(detail.contains("steady state back after"), "{path}: {x}");
        let (limit, probe_failures): (&str, &[&str]) = if path == "burn" {
            // RLIMIT_CPU ends the process: nothing answers until the rollback restarts it. The
            // first failed probe meets it dying (no response) or dead (refused), as it happens.
            (
                "RLIMIT_CPU=1",
                &["sent no HTTP response", "Connection refused"],
            )
        } else {
            // `MB` is 10^6 bytes, as everywhere sizes are read (`MiB` is 2^20).
            ("RLIMIT_AS=512000000", &["answered 507"])
        };
        assert!(detail.contains(limit), "{path}: {detail}");
        assert!(
            probe_failures.iter().any(|p| detail.contains(p)),
            "{path}: {detail}"
        );
        assert_nothing_left(port);
    }
}

#[test]
fn ctrl_c_during_an_experiment_kills_the_service_group_and_keeps_the_report() {
    let bin = service_bin();
    let port = 18522u16;
    let proxy = 18523u16;
    // The service runs under a shell, so the process to kill is a grandchild in its group.
    let toml = format!(
        "[[service]]\nname = \"api\"\ncmd = [\"sh\", \"-c\", \"'{}' --port {port} & wait\"]\nready = {{ http = \"http://127.0.0.1:{port}/health\", within = \"20s\" }}\n[[proxy]]\nname = \"front\"\nlisten = \"127.0.0.1:{proxy}\"\nupstream = \"127.0.0.1:{port}\"\n[[check]]\nname = \"health\"\nhttp = {{ url = \"http://127.0.0.1:{proxy}/health\", status = 200 }}\n[[chaos]]\nname = \"frozen\"\nsteady_state = [\"health\"]\nfault = {{ kind = \"stop\", target = \"api\" }}\nduration = \"120s\"\nrecover_within = \"60s\"\nrollback = [[\"sh\", \"-c\", \"sleep 0.2; echo done > rolled-back\"]]\n",
        bin.display()
    );
    let dir = temp_workspace(&toml);
    let mut child = gate("none")
        .current_dir(dir.path())
        .args(["run", "--progress", "lines", "--out-dir", "target/gate"])
        .args(["--suite", "infra", "--suite", "chaos"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();

    // Wait (bounded) until the fault is in: the service process is stopped (state T).
    let needle = format!("--port\0{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !processes(|c| c.contains(&needle))
        .iter()
        .any(|(_, s)| *s == 'T')
    {
        assert!(Instant::now() < deadline, "the service was never stopped");
        assert!(
            child.try_wait().unwrap().is_none(),
            "cargo-gate ended before the fault"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let status = interrupt(&mut child);
    assert_eq!(status.code(), Some(1), "an interrupted run fails the gate");
    assert_nothing_left(port);
    let report = json(&dir.path().join("target/gate/report.json"));
    assert_eq!(report["run"]["interrupted"], true, "{report}");
    assert_eq!(case(&report, "infra", "check health")["status"], "passed");
    // The rollback ran to its end although the run was cancelled before it started.
    let rolled = std::fs::read_to_string(dir.path().join("rolled-back")).unwrap_or_default();
    assert_eq!(rolled.trim(), "done", "the rollback command did not run");
    let x = case(&report, "chaos", "chaos frozen");
    let log = x["detail"].as_str().unwrap_or_default();
    assert!(
        log.contains("rollback: continued `api`")
            && log.contains("rollback command `sh -c sleep 0.2; echo done > rolled-back` ran")
            && log.contains("interrupted: recovery not awaited")
            && !log.contains("did not come back"),
        "{log}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", proxy)).is_err(),
        "the proxy outlived the run"
    );
}

#[test]
fn probes_keep_a_fixed_schedule_and_a_hung_probe_cannot_keep_the_fault_in() {
    let bin = service_bin();
    let port = 18524;
    let proxy = 18525;
    // Probes take 100 ms through 50 ms of latency each way: on a fixed 250 ms schedule a
    // 1 s fault sees 4 of them (with `every` counted after each probe it would be 3). Then a
    // timeout toxic swallows the probe's request: the probe hangs, the fault still ends on time.
    let toml = format!(
        "{}[[proxy]]\nname = \"api\"\nlisten = \"127.0.0.1:{proxy}\"\nupstream = \"127.0.0.1:{port}\"\n[[check]]\nname = \"health\"\nhttp = {{ url = \"http://127.0.0.1:{proxy}/health\" }}\n[[chaos]]\nname = \"slow\"\nsteady_state = [\"health\"]\nfault = {{ kind = \"latency\", target = \"api\", latency = \"50ms\" }}\nduration = \"1s\"\nduring = {{ every = \"250ms\", max_failure_ratio = 0.0 }}\n[[chaos]]\nname = \"hung\"\nsteady_state = [\"health\"]\nfault = {{ kind = \"timeout\", target = \"api\", after = \"0s\" }}\nduration = \"1s\"\nduring = {{ every = \"200ms\", max_failure_ratio = 1.0, timeout = \"20s\" }}\n",
        service_toml(&bin, port, "", true)
    );
    let dir = temp_workspace(&toml);
    let (code, r) = run(dir.path(), &["chaos"]);
    let slow = case(&r, "chaos", "chaos slow");
    let log = slow["detail"].as_str().unwrap_or_default();
    assert!(
        log.contains("during the fault: 0 of 4 probes failed"),
        "{log}"
    );
    let hung = case(&r, "chaos", "chaos hung");
    let log = hung["detail"].as_str().unwrap_or_default();
    assert!(
        log.contains("first failed probe: probe still running when the fault's 1.00s were up")
            && log.contains("during the fault: 1 of 1 probes failed"),
        "{log}"
    );
    // The health check's own limit is 5 s; the experiment did not wait for it.
    let secs: f64 = hung["attempts"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["duration"].as_f64()).sum())
        .unwrap_or(99.0);
    assert!(
        secs < 4.0,
        "the hung probe kept the fault in: {secs} s\n{log}"
    );
    assert_eq!(code, 0, "both experiments hold: {r}");
    assert_nothing_left(port);
}

/// A fault that cannot be injected (its proxy could not listen: the port is taken) fails the
/// experiment with the reason, and the rollback commands still run.
#[test]
fn a_fault_that_cannot_be_injected_still_runs_the_rollback() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let toml = format!(
        "[[proxy]]\nname = \"front\"\nlisten = \"127.0.0.1:{port}\"\nupstream = \"127.0.0.1:9\"\n[[chaos]]\nname = \"no proxy\"\nfault = {{ kind = \"latency\", target = \"front\" }}\nduration = \"100ms\"\nrollback = [[\"sh\", \"-c\", \"echo done > rolled-back\"]]\n"
    );
    let dir = temp_workspace(&toml);
    let (code, r) = run(dir.path(), &["chaos"]);
    assert_eq!(code, 1, "{r}");
    let x = case(&r, "chaos", "chaos no proxy");
    let msg = x["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("the fault could not be injected: proxy `front` is not running"),
        "{msg}"
    );
    let rolled = std::fs::read_to_string(dir.path().join("rolled-back")).unwrap_or_default();
    assert_eq!(rolled.trim(), "done", "the rollback did not run");
    let log = x["detail"].as_str().unwrap_or_default();
    assert!(
        !log.contains("back to normal"),
        "nothing was injected: {log}"
    );
    drop(taken);
}

/// A fault lasts its `duration` even when its one probe ends at once, seen from outside: a
/// pinger with its own clock sends requests through the proxy the whole time and notes when
/// they were slow. (The fault used to be lifted as soon as the last probe was done.)
#[test]
fn a_fault_with_probes_lasts_its_whole_duration_seen_from_outside() {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    let bin = service_bin();
    let (port, proxy) = (18526, 18527);
    let toml = format!(
        "{}[[proxy]]\nname = \"api\"\nlisten = \"127.0.0.1:{proxy}\"\nupstream = \"127.0.0.1:{port}\"\n[[check]]\nname = \"health\"\nhttp = {{ url = \"http://127.0.0.1:{port}/health\" }}\n[[chaos]]\nname = \"slow\"\nsteady_state = [\"health\"]\nfault = {{ kind = \"latency\", target = \"api\", latency = \"300ms\" }}\nduration = \"2s\"\nduring = {{ every = \"10s\", max_failure_ratio = 0.0 }}\n",
        service_toml(&bin, port, "", true)
    );
    let dir = temp_workspace(&toml);
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let pinger = {
        let done = done.clone();
        std::thread::spawn(move || {
            // (start, end) of each request that took longer than the latency added.
            let mut slow: Vec<(Instant, Instant)> = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let began = Instant::now();
                let answered = (|| {
                    let mut s = std::net::TcpStream::connect(("127.0.0.1", proxy)).ok()?;
                    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
                    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        .ok()?;
                    let mut buf = Vec::new();
                    s.read_to_end(&mut buf).ok()?;
                    (!buf.is_empty()).then_some(())
                })();
                let ended = Instant::now();
                match answered {
                    Some(()) if ended - began >= Duration::from_millis(280) => {
                        slow.push((began, ended));
                    }
                    Some(()) => {}
                    // The proxy is not up yet, or already gone.
                    None => std::thread::sleep(Duration::from_millis(20)),
                }
            }
            slow
        })
    };
    let (code, r) = run(dir.path(), &["chaos"]);
    done.store(true, Ordering::Relaxed);
    let slow = pinger.join().unwrap();
    assert_eq!(code, 0, "{r}");
    let log = case(&r, "chaos", "chaos slow")["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (first, last) = (slow.first().map(|s| s.0), slow.last().map(|s| s.1));
    let span = match (first, last) {
        (Some(a), Some(b)) => (b - a).as_secs_f64(),
        _ => 0.0,
    };
    // Requests slow from the first to the last took the fault's 2 s (a request that began just
    // before the fault ended counts up to its end; a loaded machine only lengthens it).
    assert!(
        span >= 1.8,
        "slow requests spanned {span:.2}s of a 2 s fault\n{log}"
    );
    // The report says how long the fault was in, measured.
    let lasted: f64 = log
        .split("fault in for ")
        .nth(1)
        .and_then(|r| r.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    assert!(lasted >= 2.0, "{log}");
    assert!(log.contains("(duration 2.00s)"), "{log}");
    // And in the report's metrics, for tools.
    let fault = chaos_metric(&r, "chaos.slow.fault").unwrap_or(0.0);
    assert!(fault >= 2.0, "chaos.slow.fault is {fault}");
    assert_nothing_left(port);
}

/// A probe that hangs is killed with its process group at its timeout, a recovery check at
/// `recover_within`: nothing the experiment started is left once the run ends.
#[test]
fn hung_probes_and_recovery_checks_are_cut_and_leave_nothing() {
    // Passes twice (the infra suite's run of the check, then the steady state before the
    // fault), hangs every time after.
    let marker = "31.41592";
    let toml = format!(
        "[[proxy]]\nname = \"front\"\nlisten = \"127.0.0.1:18528\"\nupstream = \"127.0.0.1:9\"\n[[check]]\nname = \"once\"\ncommand = {{ cmd = [\"sh\", \"-c\", \"n=$(cat count 2>/dev/null || echo 0); echo $((n + 1)) > count; [ $n -lt 2 ] || exec sleep {marker}\"] }}\n[[chaos]]\nname = \"hangs\"\nsteady_state = [\"once\"]\nfault = {{ kind = \"latency\", target = \"front\" }}\nduration = \"1s\"\nduring = {{ every = \"200ms\", timeout = \"300ms\", max_failure_ratio = 1.0 }}\nrecover_within = \"1s\"\n"
    );
    let dir = temp_workspace(&toml);
    let started = Instant::now();
    let (code, r) = run(dir.path(), &["chaos"]);
    let took = started.elapsed();
    assert_eq!(code, 1, "{r}");
    let x = case(&r, "chaos", "chaos hangs");
    let msg = x["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("the steady state did not come back within 1.00s"),
        "{msg}"
    );
    let log = x["detail"].as_str().unwrap_or_default();
    assert!(
        log.contains("probe still running after 300ms (cut, counted as failed)"),
        "{log}"
    );
    // The check's own limit is 60 s: the run did not wait for it anywhere.
    assert!(took < Duration::from_secs(30), "{took:?}\n{log}");
    assert_no_process(&format!("sleep\0{marker}"));
}

/// A service that dies during an experiment fails it with how and when, and its last output,
/// whatever the probes said.
#[test]
fn a_service_that_dies_during_an_experiment_fails_it_with_its_exit() {
    let toml = "[[service]]\nname = \"brittle\"\ncmd = [\"sh\", \"-c\", \"echo starting; sleep 1; echo giving up; exit 3\"]\n[[proxy]]\nname = \"front\"\nlisten = \"127.0.0.1:18530\"\nupstream = \"127.0.0.1:9\"\n[[chaos]]\nname = \"outlive\"\nfault = { kind = \"latency\", target = \"front\" }\nduration = \"2s\"\n";
    let dir = temp_workspace(toml);
    let (code, r) = run(dir.path(), &["chaos"]);
    assert_eq!(code, 1, "{r}");
    let x = case(&r, "chaos", "chaos outlive");
    let msg = x["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("service `brittle` exited with code 3 "),
        "{msg}"
    );
    let log = x["detail"].as_str().unwrap_or_default();
    assert!(
        log.contains("into it; its last output:\nstarting\ngiving up"),
        "{log}"
    );
    // When, within the experiment (it died a second after it started, whatever the machine's
    // load makes of that second: under load the service may start before the experiment, so
    // it can read `999ms` as well as `1.02s`).
    let when = msg
        .trim_start_matches("service `brittle` exited with code 3 ")
        .split(' ')
        .next()
        .unwrap_or_default();
    let secs: f64 = match when.strip_suffix("ms") {
        Some(ms) => ms.parse::<f64>().map_or(-1.0, |v| v / 1000.0),
        None => when.trim_end_matches('s').parse().unwrap_or(-1.0),
    };
    let lasted = x["attempts"][0]["duration"].as_f64().unwrap_or(0.0);
    assert!(
        (0.0..=lasted + 0.01).contains(&secs),
        "{msg} (the experiment took {lasted}s)"
    );
}

/// SIGTERM, then a second signal, while a probe hangs: the run ends, and the probe's process
/// group goes with it (it was left to init before probes had deadlines of their own).
#[test]
fn a_hung_probe_dies_with_the_run_on_sigterm_and_a_second_signal() {
    let marker = "27.18281";
    let toml = format!(
        "[[proxy]]\nname = \"front\"\nlisten = \"127.0.0.1:18531\"\nupstream = \"127.0.0.1:9\"\n[[check]]\nname = \"once\"\ncommand = {{ cmd = [\"sh\", \"-c\", \"n=$(cat count 2>/dev/null || echo 0); echo $((n + 1)) > count; [ $n -lt 2 ] || exec sleep {marker}\"] }}\n[[chaos]]\nname = \"hangs\"\nsteady_state = [\"once\"]\nfault = {{ kind = \"latency\", target = \"front\" }}\nduration = \"60s\"\nduring = {{ every = \"1s\", timeout = \"50s\", max_failure_ratio = 1.0 }}\n"
    );
    let dir = temp_workspace(&toml);
    let mut child = gate("none")
        .current_dir(dir.path())
        .args(["run", "--progress", "lines", "--out-dir", "target/gate"])
        .args(["--suite", "chaos"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) until the probe hangs.
    let needle = format!("sleep\0{marker}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while processes(|c| c.contains(&needle)).is_empty() {
        assert!(Instant::now() < deadline, "the probe never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "cargo-gate ended first"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signals to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    std::thread::sleep(Duration::from_millis(100));
    let status = interrupt(&mut child);
    assert_eq!(status.code(), Some(1), "an interrupted run fails the gate");
    assert_no_process(&needle);
    let report = json(&dir.path().join("target/gate/report.json"));
    assert_eq!(report["run"]["interrupted"], true, "{report}");
}
