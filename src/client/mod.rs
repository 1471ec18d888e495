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
pub mod transport;
pub mod url;

use std::sync::Arc;

pub use self::error::{Error, Result, Status};
pub use self::options::{Options, OptionsPatch};

use self::fetch::FetchOptions;
use self::headers::ClientHeaders;
use self::http::{Body, Policy, Request};
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
    transport: Arc<Transport>,
}

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
        Ok(Client {
            inner: Arc::new(Inner {
                options,
                headers,
                policy,
                transport,
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
        Ok(Request {
            method: ::http::Method::POST,
            url: url::resolve(&opts.base_url, &opts.endpoints, &path, None)?,
            headers: self.inner.headers.internal_json.clone(),
            body: Body::Bytes(body),
        })
    }

    /// `ConversationSessionClient.create` / `BotSessionClient.create`:
    /// returns the response JSON text as the server sent it.
    pub async fn create_session(&self, request: Request) -> Result<String> {
        let resp = self.send(&request, &self.inner.policy).await?;
        if !resp.status.is_success() {
            return Err(resp.into_error());
        }
        let status = resp.status.as_u16();
        if !resp.is_json() {
            return Err(Error::invalid_response(
                status,
                "the server answered without an application/json content type",
            ));
        }
        json_text(status, resp.body)
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
        let mut headers = if fo.external {
            self.inner.headers.external.clone()
        } else {
            self.inner.headers.internal.clone()
        };
        let method = fo.effective_method();
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
                method,
                url,
                headers: headers.into(),
                body,
            },
            policy,
        ))
    }

    /// `clientFetch(path, options)`: the JSON body of a JSON response, or
    /// `{"headers", "data" (base64), "encoding": "base64"}` for any other.
    pub async fn fetch(&self, request: Request, policy: Policy) -> Result<String> {
        let resp = self.send(&request, &policy).await?;
        if !resp.status.is_success() {
            return Err(resp.into_error());
        }
        if resp.is_json() {
            return json_text(resp.status.as_u16(), resp.body);
        }
        Ok(fetch::binary_result(&resp).to_string())
    }

    async fn send(&self, request: &Request, policy: &Policy) -> Result<http::Response> {
        let http = self.inner.transport.client()?;
        http::send(&http, request, policy).await
    }
}

/// The body of a JSON response as text, checked to be JSON (a leading BOM
/// is dropped, as `response.json()` does).
fn json_text(status: u16, body: bytes::Bytes) -> Result<String> {
    let bad = |why: &str| Error::invalid_response(status, format!("the response body {why}"));
    let text = String::from_utf8(Vec::from(body)).map_err(|_| bad("is not valid UTF-8"))?;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    serde_json::from_str::<serde::de::IgnoredAny>(&text)
        .map_err(|e| bad(&format!("is not valid JSON: {e}")))?;
    Ok(text)
}
