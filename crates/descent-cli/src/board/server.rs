//! Startup and the router: binds the address (a clear error when the port is taken), starts
//! the watcher thread over the runs directory, refuses requests whose `Host` header is not
//! this server's (DNS-rebinding protection), bounds request bodies and live connections.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{broadcast, Semaphore};

use super::runs::{Index, Update};
use super::{api, assets, playground};
use crate::args::BoardArgs;

/// The largest request body accepted (a playground run specification).
pub const MAX_BODY: usize = 64 * 1024;

/// Live (Server-Sent Events) connections served at once.
pub const MAX_LIVE_CLIENTS: usize = 64;

/// How often the watcher reads the runs' files, and rescans the directory (in reads).
const POLL: Duration = Duration::from_millis(200);
const RESCAN_EVERY: u32 = 5;

/// What every handler sees.
#[derive(Clone)]
pub struct Board {
    pub index: Arc<RwLock<Index>>,
    pub updates: broadcast::Sender<Arc<Update>>,
    pub live: Arc<Semaphore>,
    /// `Host` header values this server answers.
    pub hosts: Arc<Vec<String>>,
}

pub fn serve(args: BoardArgs) -> Result<()> {
    let root = canonical_root(&args.runs_dir)?;
    let listener = TcpListener::bind((args.host.as_str(), args.port)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "port {} on {} is already in use (another board?); choose another with --port",
                args.port,
                args.host
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot listen on {}:{}", args.host, args.port))
        }
    })?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let loopback = matches!(args.host.as_str(), "127.0.0.1" | "localhost" | "::1");
    if !loopback {
        eprintln!(
            "warning: serving on {}: anyone who can reach this address can read the run data under {}",
            args.host,
            root.display()
        );
    }
    let mut index = Index::new(root.clone());
    index.scan();
    let count = index.runs.len();
    let index = Arc::new(RwLock::new(index));
    let (updates, _) = broadcast::channel(4096);
    let hosts = vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        format!("{}:{port}", args.host),
    ];
    let board = Board {
        index: index.clone(),
        updates: updates.clone(),
        live: Arc::new(Semaphore::new(MAX_LIVE_CLIENTS)),
        hosts: Arc::new(hosts),
    };
    std::thread::Builder::new()
        .name("board-watch".into())
        .spawn(move || watch(index, updates))?;
    let shown = if args.host.contains(':') {
        format!("[{}]", args.host)
    } else {
        args.host.clone()
    };
    let url = format!("http://{shown}:{port}/");
    println!(
        "descent board: serving {} ({count} runs) at {url}",
        root.display()
    );
    if args.open {
        open_browser(&url);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, router(board)).await
    })?;
    Ok(())
}

/// The runs directory, which must exist.
fn canonical_root(dir: &std::path::Path) -> Result<PathBuf> {
    if !dir.exists() {
        bail!(
            "the runs directory {} does not exist: train with --out {}/NAME first, or name another directory",
            dir.display(),
            dir.display()
        );
    }
    if !dir.is_dir() {
        bail!("{} is not a directory of runs", dir.display());
    }
    std::fs::canonicalize(dir).with_context(|| format!("cannot read {}", dir.display()))
}

/// The watcher: new runs, and new lines of every run, pushed to live clients.
fn watch(index: Arc<RwLock<Index>>, updates: broadcast::Sender<Arc<Update>>) {
    let mut tick = 0u32;
    loop {
        std::thread::sleep(POLL);
        tick = tick.wrapping_add(1);
        let news = {
            let Ok(mut index) = index.write() else { return };
            let mut news = if tick % RESCAN_EVERY == 0 {
                index.scan()
            } else {
                Vec::new()
            };
            news.extend(index.refresh());
            news
        };
        for u in news {
            // No receiver is not an error: nobody is watching.
            let _ = updates.send(Arc::new(u));
        }
    }
}

pub fn router(board: Board) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{*path}", get(assets::asset))
        .route("/api/runs", get(api::list))
        .route("/api/events", get(api::all_events))
        .route("/api/runs/{*rest}", get(api::run_route))
        .route("/api/playground", post(playground::handle))
        .route("/api/playground/presets", get(playground::presets))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(board.clone(), check_host))
        .with_state(board)
}

/// Refuses a request whose `Host` is not an address this server serves.
async fn check_host(State(board): State<Board>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !board.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return (
            StatusCode::FORBIDDEN,
            format!(
                "Host `{host}` is not this board's address; open it as http://{}/",
                board.hosts[0]
            ),
        )
            .into_response();
    }
    next.run(request).await
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("warning: cannot open a browser ({opener}: {e}); open {url} yourself");
    }
}
