//! `ResponsePromise.stream()`: a fetch whose body is read as JSON Lines,
//! each line handed on as soon as it has arrived.

use std::time::Duration;

use bytes::BytesMut;
use http::header::{HeaderValue, ACCEPT};

use super::error::Status;
use super::http::{next_chunk, within, Policy, Request};
use super::{Client, Error, Result};

/// How a stream ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Streamed {
    /// Items handed on, the one that asked to stop included.
    pub items: u64,
    /// Whether the item callback asked to stop (the rest was not read).
    pub stopped: bool,
}

impl Client {
    /// Check a stream call's arguments and build its request: `_fetch`'s,
    /// plus `accept: application/jsonl` (over a call's own `accept`).
    pub fn stream_request(
        &self,
        path: &str,
        options_json: Option<&str>,
    ) -> Result<(Request, Policy)> {
        let (mut request, policy) = self.fetch_request(path, options_json)?;
        if request.cache.is_some() {
            return Err(Error::invalid_argument(
                "fetch option `cache` cannot be used with a stream",
            ));
        }
        std::sync::Arc::make_mut(&mut request.headers)
            .insert(ACCEPT, HeaderValue::from_static("application/jsonl"));
        Ok((request, policy))
    }

    /// Send `request` and hand each JSON line of a 2xx body to `on_item`
    /// as it arrives; `on_item` returns false to stop reading (the
    /// connection is then closed, not read to the end). A non-2xx answer is
    /// the same error as `fetch`'s.
    pub async fn stream(
        &self,
        request: Request,
        policy: Policy,
        on_item: &mut (dyn FnMut(&str) -> bool + Send),
    ) -> Result<Streamed> {
        let resp = self.send(&request, &policy, true).await?;
        let Some(body) = resp.unread else {
            return request.redact.outcome(Err(resp.into_error()));
        };
        let status = resp.status.as_u16();
        let mut lines = Lines {
            body,
            buf: BytesMut::new(),
            max: policy.max_response_bytes,
            idle: policy.timeout,
            ended: false,
        };
        let mut items = 0;
        while let Some(line) = request
            .redact
            .outcome(lines.next().await.map_err(|e| Error {
                http_status: status,
                message: match e.status {
                    // Which stream stalled, and after how much of it.
                    Status::Timeout => format!(
                        "{} {}: {} (after {items} item{})",
                        request.method,
                        crate::log::target(&request.url),
                        e.message,
                        if items == 1 { "" } else { "s" }
                    ),
                    _ => e.message,
                },
                ..e
            }))?
        {
            if serde_json::from_str::<serde::de::IgnoredAny>(&line).is_err() {
                return Err(Error::invalid_response(
                    status,
                    format!("stream item {} is not JSON", items + 1),
                ));
            }
            items += 1;
            if !on_item(&line) {
                return Ok(Streamed {
                    items,
                    stopped: true,
                });
            }
        }
        Ok(Streamed {
            items,
            stopped: false,
        })
    }
}

/// The JSON lines of a body: whole lines, whitespace around them dropped,
/// blank ones skipped, a last line without a newline included.
struct Lines {
    body: reqwest::Body,
    /// Bytes received and not yet handed on (a partial line).
    buf: BytesMut,
    /// The longest line allowed, its line ending not counted.
    max: u64,
    /// The longest wait for the next line.
    idle: Option<Duration>,
    ended: bool,
}

impl Lines {
    async fn next(&mut self) -> Result<Option<String>> {
        // Whitespace-only lines are skipped; each turn takes one line or
        // one chunk, and the body is bounded, so this ends.
        loop {
            if let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
                let line = self.buf.split_to(end + 1);
                if let Some(text) = self.text(&line[..end])? {
                    return Ok(Some(text));
                }
                continue;
            }
            // A partial line already over the limit (one byte more for a
            // `\r` before its newline): no need to wait for the rest.
            if self.buf.len() as u64 > self.max.saturating_add(1) {
                return Err(self.too_long());
            }
            if self.ended {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let line = self.buf.split();
                return self.text(&line);
            }
            match within(self.idle, "the next line", next_chunk(&mut self.body)).await?? {
                Some(chunk) => self.buf.extend_from_slice(&chunk),
                None => self.ended = true,
            }
        }
    }

    /// A line's text without surrounding whitespace; None for a blank one.
    fn text(&self, line: &[u8]) -> Result<Option<String>> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() as u64 > self.max {
            return Err(self.too_long());
        }
        let text = std::str::from_utf8(line)
            .map_err(|_| Error::invalid_response(0, "a stream line is not valid UTF-8"))?
            .trim();
        Ok((!text.is_empty()).then(|| text.to_owned()))
    }

    fn too_long(&self) -> Error {
        Error::invalid_response(
            0,
            format!(
                "a stream line is longer than maxResponseBytes ({} bytes)",
                self.max
            ),
        )
    }
}
