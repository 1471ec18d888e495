//! The SDK in plain Rust: no raw pointers, no C types.
//!
//! [`Client`] is the Node SDK's `ChatBotKitClient`: options, `extend`,
//! `clientFetch`, and the two session calls (`ConversationSessionClient.create`
//! and `BotSessionClient.create`) on top of it.

pub mod error;
pub mod fetch;
pub mod headers;
pub mod http;
pub mod json;
pub mod options;
pub mod redact;
pub mod stream;
pub mod transport;
pub mod url;

use std::sync::Arc;

pub use self::error::{Error, Result, Status};
pub use self::options::{Options, OptionsPatch};

use self::fetch::FetchOptions;
use self::headers::ClientHeaders;
use self::http::{Body, Policy, Request};
use self::redact::Redactor;
use self::transport::Transport;

/// Which session route a client mints on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    /// `POST /api/v1/conversation/{conversationId}/session/create`
    Conversation,
    /// `POST /api/v1/bot/{botId}/session/create`
    Bot,
}

impl SessionKind {
    fn route(self) -> &'static str {
        match self {
            SessionKind::Conversation => "conversation",
            SessionKind::Bot => "bot",
        }
    }

    /// The name of the id argument in the C API, for messages.
    pub fn id_name(self) -> &'static str {
        match self {
            SessionKind::Conversation => "conversation_id",
            SessionKind::Bot => "bot_id",
        }
    }
}

/// A client: validated options, the headers they imply, and a handle on the
/// shared connection pool for its transport settings. Cheap to clone; clones
/// share everything.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    options: Options,
    headers: ClientHeaders,
    policy: Policy,
    /// The credentials, to keep out of what servers make the library say.
    redact: Redactor,
    transport: Arc<Transport>,
    /// `cache(key)` results of this handle (successes only, the least
    /// recently used dropped first); a handle made by `extend` starts empty.
    cache: std::sync::Mutex<lru::LruCache<String, String>>,
}

/// The most `cache` results one handle keeps.
const CACHE_ENTRIES: usize = 1000;

impl Client {
    /// `new ChatBotKitClient(options)`.
    pub fn new(patch: &OptionsPatch) -> Result<Client> {
        Client::from_options(Options::new(patch)?, None)
    }

    /// `client.extend(options)`: a new, independent client.
    pub fn extend(&self, patch: &OptionsPatch) -> Result<Client> {
        Client::from_options(
            self.inner.options.apply(patch)?,
            Some(&self.inner.transport),
        )
    }

    /// A client for `options`; `parent`'s transport is shared when the
    /// transport settings did not change (the usual `extend`), else the pool
    /// for the settings is looked up.
    fn from_options(options: Options, parent: Option<&Arc<Transport>>) -> Result<Client> {
        let headers = ClientHeaders::new(&options)?;
        let policy = Policy {
            timeout: options.timeout,
            retries: options.retries,
            retry_delay: options.retry_delay,
            retry_timeout: options.retry_timeout,
            max_response_bytes: options.max_response_bytes,
        };
        let transport = match parent {
            Some(t) if t.settings() == &options.transport => t.clone(),
            _ => Transport::for_settings(&options.transport)?,
        };
        // The proxy's password is a credential too.
        let proxy_password = match &options.transport.proxy {
            options::ProxySetting::Url(url) => url.password().map(str::to_owned),
            _ => None,
        };
        let redact = Redactor::new(
            [&options.secret, &options.token, &proxy_password]
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
        Ok(Client {
            inner: Arc::new(Inner {
                options,
                headers,
                policy,
                redact,
                transport,
                cache: std::sync::Mutex::new(lru::LruCache::new(
                    std::num::NonZeroUsize::new(CACHE_ENTRIES).expect("not zero"),
                )),
            }),
        })
    }

    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// Check the arguments of a session call and build its request, so
    /// that bad input fails before anything is sent or spawned.
    pub fn session_request(
        &self,
        kind: SessionKind,
        id: &str,
        request_json: Option<&str>,
    ) -> Result<Request> {
        let id = url::encode_id(id, kind.id_name())?;
        let body = match request_json {
            None => bytes::Bytes::from_static(b"{}"),
            Some(text) => {
                json::check_object(text, "request_json")?;
                bytes::Bytes::copy_from_slice(text.as_bytes())
            }
        };
        let path = format!("/api/v1/{}/{id}/session/create", kind.route());
        let opts = &self.inner.options;
        let url = url::resolve(&opts.base_url, &opts.endpoints, &path, None)?;
        url::check_length(&url, kind.id_name())?;
        Ok(Request {
            method: ::http::Method::POST,
            url,
            headers: self.inner.headers.internal_json.clone(),
            body: Body::Bytes(body),
            redact: self.inner.redact.clone(),
            cache: None,
        })
    }

    /// `ConversationSessionClient.create` / `BotSessionClient.create`:
    /// returns the response JSON text as the server sent it.
    pub async fn create_session(&self, request: Request) -> Result<String> {
        let resp = self.send(&request, &self.inner.policy, false).await?;
        request.redact.outcome(session_result(resp))
    }

    /// Check the arguments of a fetch call and build its request and policy.
    pub fn fetch_request(
        &self,
        path: &str,
        options_json: Option<&str>,
    ) -> Result<(Request, Policy)> {
        let fo = FetchOptions::parse(options_json)?;
        let opts = &self.inner.options;
        let mut url = url::resolve(
            &opts.base_url,
            &opts.endpoints,
            path,
            fo.endpoint.as_deref(),
        )?;
        if let Some(query) = &fo.query {
            url::append_query(&mut url, query);
        }
        url::check_length(&url, "path")?;
        let mut headers = if fo.external {
            self.inner.headers.external.clone()
        } else {
            self.inner.headers.internal.clone()
        };
        let method = fo.effective_method()?;
        let body = match fo.body {
            Some((body, content_type)) => {
                if let Some(ct) = content_type {
                    headers.insert(::http::header::CONTENT_TYPE, ct);
                }
                body
            }
            None => Body::Empty,
        };
        headers::overlay(&mut headers, &fo.headers, "headers")?;
        let base = &self.inner.policy;
        let policy = Policy {
            timeout: fo.timeout.unwrap_or(base.timeout),
            retries: fo.retries.unwrap_or(base.retries),
            retry_delay: fo.retry_delay.unwrap_or(base.retry_delay),
            retry_timeout: fo.retry_timeout.unwrap_or(base.retry_timeout),
            max_response_bytes: base.max_response_bytes,
        };
        Ok((
            Request {
                cache: fo
                    .cache
                    .as_ref()
                    .map(|key| format!("{key}\n{method}\n{url}")),
                method,
                url,
                headers: headers.into(),
                body,
                redact: self.inner.redact.clone(),
            },
            policy,
        ))
    }

    /// `clientFetch(path, options)`: the JSON body of a JSON response, or
    /// `{"headers", "data" (base64), "encoding": "base64"}` for any other.
    pub async fn fetch(&self, request: Request, policy: Policy) -> Result<String> {
        if let Some(stored) = self.cached(&request) {
            return Ok(stored);
        }
        let resp = self.send(&request, &policy, false).await?;
        let outcome = request.redact.outcome(fetch_result(resp));
        if let (Some(key), Ok(result)) = (&request.cache, &outcome) {
            self.inner
                .cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .put(key.clone(), result.clone());
        }
        outcome
    }

    /// What an earlier fetch with the same cache key, method and URL
    /// returned on this handle, if it is still stored.
    fn cached(&self, request: &Request) -> Option<String> {
        let key = request.cache.as_ref()?;
        let mut cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(key).cloned()
    }

    /// Send with retries; with `stream`, a 2xx body is left unread.
    async fn send(
        &self,
        request: &Request,
        policy: &Policy,
        stream: bool,
    ) -> Result<http::Response> {
        let transport = &self.inner.transport;
        let pool = transport.pool()?;
        // A blocking call's lane sends one request at a time: no burst to
        // hold back there.
        let mut turn = if transport.settings().http2 && !crate::runtime::on_a_lane() {
            pool.first.turn(&request.url).await
        } else {
            None
        };
        let proxy_of = |url: &::url::Url| transport.proxy_for(url);
        let send = http::send(&pool.http, &proxy_of, request, policy, stream);
        let outcome = match turn.as_mut().and_then(|t| t.first.take()) {
            // The first request to the host: the others wait until its
            // connection is up (or it is done), then share that connection.
            Some(first) => {
                let connected = pool.connected.notified();
                tokio::pin!(send, connected);
                connected.as_mut().enable();
                tokio::select! {
                    outcome = &mut send => outcome,
                    _ = connected => {
                        if let Some(turn) = &turn {
                            turn.heard_from();
                        }
                        drop(first);
                        send.await
                    }
                }
            }
            None => send.await,
        };
        if let (Some(turn), Ok(_)) = (&turn, &outcome) {
            turn.heard_from();
        }
        outcome
    }
}

/// What a session create returns for a final response. Its errors quote the
/// server: the caller redacts them.
fn session_result(resp: http::Response) -> Result<String> {
    if !resp.status.is_success() {
        return Err(resp.into_error());
    }
    if !resp.is_json() {
        return Err(Error::invalid_response(
            resp.status.as_u16(),
            "the server answered without an application/json content type",
        ));
    }
    json_text(resp)
}

/// What a fetch returns for a final response. Its errors quote the server:
/// the caller redacts them.
fn fetch_result(resp: http::Response) -> Result<String> {
    if !resp.status.is_success() {
        return Err(resp.into_error());
    }
    if resp.is_json() {
        return json_text(resp);
    }
    Ok(fetch::binary_result(&resp).to_string())
}

/// The body of a JSON response as text, checked to be JSON (a leading BOM
/// is dropped, as `response.json()` does).
fn json_text(resp: http::Response) -> Result<String> {
    let status = resp.status.as_u16();
    // The library asks for no compression and decodes none; an encoded body
    // would otherwise be reported as text that is not UTF-8.
    if let Some(coding) = resp.content_coding() {
        return Err(Error::invalid_response(
            status,
            format!(
                "the response is {coding}-encoded (content-encoding), which the library does not decode"
            ),
        ));
    }
    let bad = |why: &str| Error::invalid_response(status, format!("the response body {why}"));
    let text = String::from_utf8(Vec::from(resp.body)).map_err(|_| bad("is not valid UTF-8"))?;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    serde_json::from_str::<serde::de::IgnoredAny>(&text)
        .map_err(|e| bad(&format!("is not valid JSON: {e}")))?;
    Ok(text)
}
