//! The JSON API and the live streams (documented in the README):
//! - `GET /api/runs`: every run with its status, model, optimizer, lr, epochs, best loss;
//! - `GET /api/runs/{run}/metrics`: every epoch record (and step sample) as columns;
//! - `GET /api/runs/{run}/summary`: `summary.json`, the start and end events, the figures;
//! - `GET /api/runs/{run}/events[?after=EPOCH]`: Server-Sent Events of the run's new records
//!   (those after `after` first);
//! - `GET /api/runs/{run}/files/{name}`: one of the run's figures (png, svg, gif);
//! - `GET /api/events`: Server-Sent Events of every run (new runs, records, ends).
//!
//! A run's name is its path below the runs directory and may hold `/`; only names of runs
//! the watcher found are served, so a path that leads elsewhere is a 404 by construction.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use super::runs::{is_figure_name, Update};
use super::server::Board;

/// An error as a status and a message (plain text).
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn not_found(what: &str) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("no {what}"))
}

pub async fn list(State(board): State<Board>) -> Result<Json<Value>, ApiError> {
    let index = read(&board)?;
    let runs: Vec<Value> = index.runs.iter().map(|(n, r)| r.listing(n)).collect();
    Ok(Json(
        json!({ "root": index.root.file_name().map(|n| n.to_string_lossy()), "runs": runs }),
    ))
}

fn read(board: &Board) -> Result<std::sync::RwLockReadGuard<'_, super::runs::Index>, ApiError> {
    board.index.read().map_err(|_| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the run index failed".into(),
        )
    })
}

#[derive(Deserialize)]
pub struct After {
    after: Option<usize>,
}

/// `/api/runs/{run}/{metrics|summary|events}` and `/api/runs/{run}/files/{name}`.
pub async fn run_route(
    State(board): State<Board>,
    Path(rest): Path<String>,
    Query(q): Query<After>,
) -> Result<Response, ApiError> {
    if let Some((run, name)) = rest.rsplit_once("/files/") {
        return file(&board, run, name).await;
    }
    let (run, what) = rest
        .rsplit_once('/')
        .ok_or_else(|| not_found("such resource"))?;
    let index = read(&board)?;
    let data = index
        .runs
        .get(run)
        .ok_or_else(|| not_found(&format!("run `{run}`")))?;
    match what {
        "metrics" => Ok(Json(data.columns(run)).into_response()),
        "summary" => Ok(Json(json!({
            "name": run,
            "status": data.status(),
            "summary": data.summary,
            "start": data.start,
            "end": data.end,
            "figures": data.figures(),
            "corrupt": data.corrupt,
        }))
        .into_response()),
        "events" => {
            let after = q.after.unwrap_or(0);
            let backlog: Vec<Update> = data
                .records
                .iter()
                .filter(|r| r.epoch > after)
                .map(|r| Update {
                    run: run.to_string(),
                    kind: "epoch",
                    data: serde_json::to_value(r).unwrap_or_default(),
                })
                .collect();
            let last = data.records.last().map_or(after, |r| r.epoch.max(after));
            drop(index);
            live(&board, Some(run.to_string()), backlog, last).map(IntoResponse::into_response)
        }
        _ => Err(not_found("such resource")),
    }
}

/// `/api/events`: everything, for the page.
pub async fn all_events(State(board): State<Board>) -> Result<Response, ApiError> {
    live(&board, None, Vec::new(), 0).map(IntoResponse::into_response)
}

/// A Server-Sent-Events stream of the updates of `run` (or of every run): the `backlog`
/// first, then live ones (epochs of `run` only after `last`).
fn live(
    board: &Board,
    run: Option<String>,
    backlog: Vec<Update>,
    last: usize,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let permit = board.live.clone().try_acquire_owned().map_err(|_| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "too many live connections (at most {}); close some board tabs",
                super::server::MAX_LIVE_CLIENTS
            ),
        )
    })?;
    // Subscribed before the backlog was taken: nothing falls between the two.
    let receiver = board.updates.subscribe();
    let backlog = tokio_stream::iter(backlog.into_iter().map(Arc::new).map(Ok));
    let stream = backlog
        .chain(BroadcastStream::new(receiver))
        .filter_map(move |u| {
            // Holding the permit for as long as the stream lives.
            let _held = &permit;
            match u {
                Ok(u) => {
                    if let Some(run) = &run {
                        let epoch = u.data["epoch"].as_u64().unwrap_or(0) as usize;
                        if &u.run != run || (u.kind == "epoch" && epoch <= last) {
                            return None;
                        }
                    }
                    Some(Ok(sse_event(&u)))
                }
                // The client fell behind: it should fetch the metrics again.
                Err(_) => Some(Ok(Event::default().event("lagged").data("{}"))),
            }
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

fn sse_event(u: &Update) -> Event {
    let data = json!({ "run": u.run, "data": u.data });
    Event::default().event(u.kind).data(data.to_string())
}

/// One of the run's figures, read only if it stays inside the runs directory.
async fn file(board: &Board, run: &str, name: &str) -> Result<Response, ApiError> {
    if name.contains("..") || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!("`{name}` is not a file name of the run's directory"),
        ));
    }
    if !is_figure_name(name) {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!("only the run's figures (png, svg, gif) are served, not `{name}`"),
        ));
    }
    let (dir, root) = {
        let index = read(board)?;
        let data = index
            .runs
            .get(run)
            .ok_or_else(|| not_found(&format!("run `{run}`")))?;
        (data.dir.clone(), index.root.clone())
    };
    let path = dir.join(name);
    let real = std::fs::canonicalize(&path).map_err(|_| not_found(&format!("file `{name}`")))?;
    if !real.starts_with(&root) {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!("`{name}` leads outside the runs directory"),
        ));
    }
    let bytes = std::fs::read(&real).map_err(|_| not_found(&format!("file `{name}`")))?;
    let kind = match name.rsplit('.').next() {
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "image/gif",
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response())
}
