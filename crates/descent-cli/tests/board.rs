//! `descent board` over HTTP: the real binary on an ephemeral loopback port, spoken to with
//! raw HTTP/1.1 (so that a test can send the paths and `Host` headers a browser would clean
//! up): the run list, metrics, summary, a live record over Server-Sent Events, half-written
//! lines, corrupt runs, traversal attempts, the `Host` check, body limits, a taken port, the
//! playground and its bound.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::ok;
use serde_json::Value;

/// A board serving `dir`, killed when dropped.
struct Board {
    child: Child,
    port: u16,
}

impl Board {
    fn start(dir: &Path) -> Board {
        let mut child = Command::new(env!("CARGO_BIN_EXE_descent"))
            .args(["board", dir.to_str().unwrap(), "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim_end()
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Board { child, port }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        // A board that never answers fails the test instead of hanging it.
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    /// `method path` with `host` and `body`; the status and the body.
    fn request(&self, method: &str, path: &str, host: &str, body: &[u8]) -> (u16, String) {
        let mut s = self.connect();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        // A refused body may close the connection before all of it is sent.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).to_string();
        let status = text[9..12].parse().unwrap();
        let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let body = if headers
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, body)
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, &self.host(), b"")
    }

    fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// An open Server-Sent-Events stream of `path`.
    fn events(&self, path: &str) -> BufReader<TcpStream> {
        let mut s = self.connect();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
            self.host()
        )
        .unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(line.contains(" 200 "), "{line}");
        r
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Reads SSE lines until a `data:` line of event `kind` whose JSON satisfies `want`.
fn wait_for(r: &mut BufReader<TcpStream>, kind: &str, want: impl Fn(&Value) -> bool) -> Value {
    let mut event = String::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).expect("the stream stays open");
        assert!(n > 0, "the stream ended before a `{kind}` event");
        let line = line.trim_end();
        // Chunk sizes of the chunked encoding come as lines of their own: skip them.
        if let Some(e) = line.strip_prefix("event: ") {
            event = e.to_string();
        } else if let Some(d) = line.strip_prefix("data: ") {
            let v: Value = serde_json::from_str(d).unwrap();
            if event == kind && want(&v) {
                return v;
            }
        }
    }
}

fn train(dir: &Path, out: &str, lr: &str) {
    train_with(dir, out, "sgd", lr);
}

fn train_with(dir: &Path, out: &str, optimizer: &str, lr: &str) {
    let args = "train --data builtin:classic --model linear --epochs 30 --batch full -q";
    let mut args: Vec<&str> = args.split(' ').collect();
    args.extend(["--optimizer", optimizer, "--lr", lr, "--out", out]);
    ok(&args, dir);
}

#[test]
fn lists_runs_serves_metrics_and_summary_and_marks_corrupt_runs() {
    let d = tempfile::tempdir().unwrap();
    train(d.path(), "runs/a", "0.05");
    train(d.path(), "runs/group/b", "0.02");
    train_with(d.path(), "runs/adam", "adam", "0.1");
    // A run of an earlier release: metrics.csv only.
    let old = d.path().join("runs/old");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(
        old.join("metrics.csv"),
        "epoch,step,loss,val_loss,lr,grad_norm\n1,1,2.5,,0.1,3\n2,2,1.5,,0.1,2\n",
    )
    .unwrap();
    let bad = d.path().join("runs/bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("events.jsonl"), "{\"type\":\"epoch\"}\nnot json\n").unwrap();
    let board = Board::start(&d.path().join("runs"));

    let list = board.json("/api/runs");
    let runs = list["runs"].as_array().unwrap();
    let by_name = |n: &str| runs.iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(runs.len(), 5, "{list}");
    let a = by_name("a");
    assert_eq!(a["status"], "completed");
    assert_eq!(a["optimizer"], "sgd");
    assert_eq!(a["lr"], 0.05);
    assert_eq!(a["epochs"], 30);
    assert!(a["best_loss"].as_f64().unwrap() < 1.0, "{a}");
    assert!(a["start_time"].as_f64().unwrap() > 1.7e9, "{a}");
    assert_eq!(by_name("group/b")["lr"], 0.02);
    assert_eq!(by_name("old")["epochs"], 2);
    let bad = by_name("bad");
    assert_eq!(bad["status"], "corrupt");
    assert!(
        bad["corrupt"]
            .as_str()
            .unwrap()
            .contains("events.jsonl line 2"),
        "{bad}"
    );

    // The same records as metrics.csv, with wall times.
    let m = board.json("/api/runs/a/metrics");
    let csv = std::fs::read_to_string(d.path().join("runs/a/metrics.csv")).unwrap();
    let losses: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    let served: Vec<f64> = m["loss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(served, losses);
    assert!(m["time"][0].as_f64().is_some());
    // Adam's effective steps: one summary per epoch, ordered quantiles; none for SGD.
    let e = &board.json("/api/runs/adam/metrics")["effective_step"];
    assert_eq!(e["epoch"].as_array().unwrap().len(), 30, "{e}");
    for i in 0..30 {
        let q: Vec<f64> = ["min", "p10", "p50", "p90", "max"]
            .iter()
            .map(|k| e[k][i].as_f64().unwrap())
            .collect();
        assert!(q[0] > 0.0 && q.windows(2).all(|w| w[0] <= w[1]), "{q:?}");
    }
    assert_eq!(m["effective_step"]["epoch"], serde_json::json!([]));
    let old = board.json("/api/runs/old/metrics");
    assert_eq!(old["loss"], serde_json::json!([2.5, 1.5]));

    let s = board.json("/api/runs/group/b/summary");
    assert_eq!(s["summary"]["optimizer"]["name"], "sgd", "{s}");
    assert_eq!(s["start"]["param_names"].as_array().unwrap().len(), 2);
    // Least squares: the stable learning rate is in the start event.
    assert!(s["start"]["stable_lr"].as_f64().unwrap() > 0.0, "{s}");
    assert_eq!(s["end"]["outcome"]["stop"]["status"], "completed");

    assert_eq!(board.get("/api/runs/nothing/metrics").0, 404);
    let (status, page) = board.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("descent board"));
    assert_eq!(board.get("/assets/vendor/uplot/LICENSE").0, 200);
}

#[test]
fn a_record_written_after_connecting_arrives_and_half_lines_wait() {
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("live");
    std::fs::create_dir_all(&run).unwrap();
    let events = run.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"type\":\"start\",\"time\":1.0,\"from_epoch\":0,\"epochs\":3}\n",
    )
    .unwrap();
    let board = Board::start(d.path());
    let mut stream = board.events("/api/runs/live/events");
    let mut all = board.events("/api/events");
    let line = |e: usize| {
        format!("{{\"type\":\"epoch\",\"time\":2.0,\"epoch\":{e},\"step\":{e},\"loss\":0.5,\"val_loss\":null,\"lr\":0.1,\"grad_norm\":1.0}}")
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&events)
        .unwrap();
    // Epoch 1 whole and the first half of epoch 2, in one write.
    let two = line(2);
    let (head, tail) = two.split_at(30);
    file.write_all(format!("{}\n{head}", line(1)).as_bytes())
        .unwrap();
    let got = wait_for(&mut stream, "epoch", |v| v["data"]["epoch"] == 1);
    assert_eq!(got["run"], "live");
    wait_for(&mut all, "epoch", |v| {
        v["run"] == "live" && v["data"]["epoch"] == 1
    });
    // The board has read the file past epoch 1: the half line is not a record.
    let m = board.json("/api/runs/live/metrics");
    assert_eq!(m["epoch"], serde_json::json!([1]));
    file.write_all(format!("{tail}\n").as_bytes()).unwrap();
    wait_for(&mut stream, "epoch", |v| v["data"]["epoch"] == 2);
    file.write_all(
        b"{\"type\":\"end\",\"time\":3.0,\"outcome\":{\"stop\":{\"status\":\"completed\"}}}\n",
    )
    .unwrap();
    wait_for(&mut stream, "end", |_| true);
    let list = board.json("/api/runs");
    assert_eq!(list["runs"][0]["status"], "completed");

    // A second run appears on the global stream without a reload.
    let second = d.path().join("second");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(second.join("events.jsonl"), format!("{}\n", line(1))).unwrap();
    wait_for(&mut all, "new", |v| v["run"] == "second");
}

#[test]
fn nothing_outside_the_runs_directory_is_served() {
    let d = tempfile::tempdir().unwrap();
    train(d.path(), "runs/a", "0.05");
    let secret = d.path().join("secret.png");
    std::fs::write(&secret, b"TOP-SECRET").unwrap();
    let a = d.path().join("runs/a");
    std::fs::write(a.join("loss.png"), b"png bytes").unwrap();
    std::os::unix::fs::symlink(&secret, a.join("leak.png")).unwrap();
    // A run directory outside, linked in: not a run of this board.
    let outside = d.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("metrics.csv"),
        "epoch,step,loss,val_loss,lr,grad_norm\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, d.path().join("runs/linked")).unwrap();
    let board = Board::start(&d.path().join("runs"));

    let (status, body) = board.get("/api/runs/a/files/loss.png");
    assert_eq!((status, body.as_str()), (200, "png bytes"));
    let names: Vec<Value> = board.json("/api/runs")["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, vec![Value::from("a")]);
    for (path, want) in [
        ("/api/runs/a/files/leak.png", 403),
        ("/api/runs/a/files/..%2f..%2fsecret.png", 403),
        ("/api/runs/a/files/%2e%2e%2fsecret.png", 403),
        ("/api/runs/a/files/%2Fetc%2Fpasswd", 403),
        ("/api/runs/a/files/metrics.csv", 403),
        ("/api/runs/a/files/../../secret.png", 403),
        ("/api/runs/../secret.png/metrics", 404),
        ("/api/runs/%2e%2e/metrics", 404),
        ("/api/runs/linked/metrics", 404),
        ("/api/runs//etc/metrics", 404),
        ("/assets/../../Cargo.toml", 404),
        ("/assets/%2e%2e/app.js", 404),
        ("/../secret.png", 404),
    ] {
        let (status, body) = board.get(path);
        assert_eq!(status, want, "GET {path}: {body}");
        assert!(!body.contains("TOP-SECRET"), "GET {path} leaked: {body}");
    }
}

#[test]
fn foreign_hosts_big_bodies_and_a_taken_port_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let board = Board::start(d.path());
    let port = board.port;
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        assert_eq!(
            board.request("GET", "/api/runs", &host, b"").0,
            200,
            "{host}"
        );
    }
    for host in [
        "evil.example:80".to_string(),
        format!("evil.example:{port}"),
        "127.0.0.1".to_string(),
    ] {
        let (status, body) = board.request("GET", "/api/runs", &host, b"");
        assert_eq!(status, 403, "Host {host}: {body}");
    }
    let big = vec![b' '; 200_000];
    let (status, _) = board.request("POST", "/api/playground", &board.host(), &big);
    assert_eq!(status, 413);

    // The port is taken by the board above.
    let out = common::descent(
        &[
            "board",
            d.path().to_str().unwrap(),
            "--port",
            &port.to_string(),
        ],
        d.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("port {port}")) && err.contains("in use"),
        "{err}"
    );
    let out = common::descent(&["board", "no-such-dir", "--port", "0"], d.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-dir"));
}

#[test]
fn the_playground_runs_two_parameter_models_within_its_bound() {
    let d = tempfile::tempdir().unwrap();
    let board = Board::start(d.path());
    let presets = board.json("/api/playground/presets");
    let classic = presets[0]["request"].clone();
    let (status, body) = board.request(
        "POST",
        "/api/playground",
        &board.host(),
        classic.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let r: Value = serde_json::from_str(&body).unwrap();
    // Full batch: one update per epoch, and the start.
    assert_eq!(r["path"].as_array().unwrap().len(), 201);
    assert_eq!(r["loss"].as_array().unwrap().len(), 200);
    assert_eq!(r["names"].as_array().unwrap().len(), 2);
    assert_eq!(r["field"]["values"].as_array().unwrap().len(), 180 * 120);
    let a = &r["analysis"];
    let (stable, best) = (
        a["stable_lr"].as_f64().unwrap(),
        a["optimal_gd"]["lr"].as_f64().unwrap(),
    );
    // The fastest plain step lies below the stability bound: 2/(λmax+λmin) < 2/λmax.
    assert!(0.0 < best && best < stable, "{a}");
    assert!(
        (stable - 2.0 / a["lambda_max"].as_f64().unwrap()).abs() < 1e-12 * stable,
        "{a}"
    );

    // More work than the bound: refused, with the numbers.
    let mut big = classic.clone();
    big["epochs"] = Value::from(5_000_000);
    let (status, body) = board.request(
        "POST",
        "/api/playground",
        &board.host(),
        big.to_string().as_bytes(),
    );
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("too much work") && body.contains("5000000"),
        "{body}"
    );
    // A file instead of built-in data: refused (the playground reads no files).
    let mut file = classic.clone();
    file["data"]["source"] = Value::from("/etc/passwd");
    let (status, body) = board.request(
        "POST",
        "/api/playground",
        &board.host(),
        file.to_string().as_bytes(),
    );
    assert_eq!(status, 422, "{body}");

    // A 2-D test function.
    let rosen = presets[2]["request"].clone();
    let (status, body) = board.request(
        "POST",
        "/api/playground",
        &board.host(),
        rosen.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let r: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r["path"].as_array().unwrap().len(), 501);
}

/// `metrics.csv`'s rows as the columns `/metrics` serves (an empty `val_loss` is `null`).
fn csv_columns(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut cols = serde_json::Map::new();
    for h in &header {
        cols.insert(h.to_string(), Value::Array(Vec::new()));
    }
    for line in lines {
        for (h, v) in header.iter().zip(line.split(',')) {
            let v: Value = if v.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(v).unwrap()
            };
            cols[*h].as_array_mut().unwrap().push(v);
        }
    }
    Value::Object(cols)
}

/// Asserts that the served metrics hold exactly the rows of `metrics.csv`, in order.
fn assert_same_records(served: &Value, csv: &Value) {
    for k in ["epoch", "step", "loss", "val_loss", "lr", "grad_norm"] {
        let (a, b) = (served[k].as_array().unwrap(), csv[k].as_array().unwrap());
        assert_eq!(
            a.len(),
            b.len(),
            "{k}: {} served, {} in metrics.csv",
            a.len(),
            b.len()
        );
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            // Numbers compared as numbers (`2` and `2.0` are one value).
            assert_eq!(x.as_f64(), y.as_f64(), "{k} of row {}", i + 1);
        }
    }
}

#[test]
fn a_long_run_comes_back_whole_and_equal_to_its_metrics_csv() {
    let d = tempfile::tempdir().unwrap();
    let args = "train --data builtin:classic --model linear --optimizer sgd --lr 0.01 --batch full --val-fraction 0.3 --epochs 100000 -q --out runs/long";
    ok(&args.split(' ').collect::<Vec<_>>(), d.path());
    let board = Board::start(&d.path().join("runs"));
    let m = board.json("/api/runs/long/metrics");
    let csv = csv_columns(&d.path().join("runs/long/metrics.csv"));
    assert_eq!(csv["epoch"].as_array().unwrap().len(), 100_000);
    assert_same_records(&m, &csv);
    // Every epoch from the event file, each with its wall time.
    assert!(m["time"].as_array().unwrap().iter().all(Value::is_f64));
    let list = board.json("/api/runs");
    assert_eq!(list["runs"][0]["epochs"], 100_000);
}

#[test]
fn a_run_resumed_from_a_checkpoint_older_than_its_event_file_shows_its_whole_history() {
    let d = tempfile::tempdir().unwrap();
    let runs = d.path().join("runs");
    // A checkpoint of release 0.1, before the event file: epochs 1-10 are in metrics.csv
    // only, 11-20 are trained now.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-0.1/bc-mid");
    std::fs::create_dir_all(runs.join("old")).unwrap();
    for f in ["checkpoint.json", "metrics.csv"] {
        std::fs::copy(fixture.join(f), runs.join("old").join(f)).unwrap();
    }
    ok(
        &["train", "--resume", "runs/old", "--epochs", "20", "-q"],
        d.path(),
    );
    // A run whose event file was deleted before it was resumed from its epoch-5 checkpoint.
    let run = |args: &str| ok(&args.split(' ').collect::<Vec<_>>(), d.path());
    let train = |out: &str| {
        run(&format!("train --data builtin:classic --model linear --optimizer sgd --lr 0.05 --batch full -q --checkpoint-every 5 --epochs 5 --out {out}"));
    };
    train("runs/lost");
    std::fs::remove_file(runs.join("lost/events.jsonl")).unwrap();
    run("train --resume runs/lost --epochs 12 -q");
    // A run resumed with its event file whole: nothing is taken twice.
    train("runs/kept");
    run("train --resume runs/kept --epochs 12 -q");

    let board = Board::start(&runs);
    for (name, epochs, resumed_at) in [("old", 20, 10), ("lost", 12, 5), ("kept", 12, 5)] {
        let m = board.json(&format!("/api/runs/{name}/metrics"));
        let csv = csv_columns(&runs.join(name).join("metrics.csv"));
        let want: Vec<u64> = (1..=epochs).collect();
        assert_eq!(csv["epoch"], serde_json::json!(want), "{name}");
        assert_same_records(&m, &csv);
        // Wall times come from the event file: the epochs trained after the resume have
        // them, those taken from metrics.csv (none of `kept`) have none.
        let timed: Vec<bool> = m["time"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::is_f64)
            .collect();
        let from_csv = if name == "kept" { 0 } else { resumed_at };
        assert_eq!(
            timed.iter().filter(|t| !**t).count(),
            from_csv,
            "{name}: {timed:?}"
        );
        assert!(timed[resumed_at..].iter().all(|t| *t), "{name}: {timed:?}");
        let listed = board.json("/api/runs");
        let run = listed["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone();
        assert_eq!(run["epochs"], epochs, "{run}");
        assert_eq!(run["status"], "completed", "{run}");
    }
}

#[test]
fn descent_bench_with_events_attaches_the_event_file_observer() {
    // What bench/board_speed.sh compares: the same workload without and with the observer.
    let d = tempfile::tempdir().unwrap();
    ok(
        &["bench", "S-tour", "--repeat", "1", "--events", "ev"],
        d.path(),
    );
    let text = std::fs::read_to_string(d.path().join("ev/events.jsonl")).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The last repetition's file: its start, its 200 epochs, its end.
    assert_eq!(lines[0]["type"], "start");
    let epochs: Vec<u64> = lines
        .iter()
        .filter(|l| l["type"] == "epoch")
        .map(|l| l["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, (1..=200).collect::<Vec<_>>());
    assert_eq!(lines.last().unwrap()["type"], "end");
}
