//! Connection pools: one [`Transport`] per distinct set of transport
//! settings, shared by every handle with those settings. A transport keeps
//! one `reqwest::Client` (one pool) per runtime (see
//! [`runtime::PerRuntime`]), because a connection belongs to the runtime
//! that opened it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use super::options::{ProxySetting, TransportSettings};
use super::{Error, Result};
use crate::runtime::PerRuntime;

/// How long a pooled connection may sit idle before it is closed.
const POOL_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// The connection pools of one set of transport settings.
pub struct Transport {
    settings: TransportSettings,
    /// The TLS settings (trust store and `caCertificatePem`, see
    /// [`crate::tls`]), made once, here, so that a bad certificate fails at
    /// `_new` rather than at the first call.
    tls: rustls::ClientConfig,
    pools: PerRuntime<Pool>,
}

/// One runtime's HTTP client (its connection pool), and what it learnt of
/// the hosts it reached.
#[derive(Clone)]
pub struct Pool {
    pub http: reqwest::Client,
    pub first: Arc<FirstRequests>,
    /// Woken whenever the client has made a connection (TLS handshake and
    /// ALPN done): the pool then knows whether it can share it.
    pub connected: Arc<tokio::sync::Notify>,
}

/// The connector layer behind [`Pool::connected`].
#[derive(Clone)]
struct NotifyOnConnect(Arc<tokio::sync::Notify>);

impl<S> tower_layer::Layer<S> for NotifyOnConnect {
    type Service = NotifyingConnector<S>;
    fn layer(&self, inner: S) -> Self::Service {
        NotifyingConnector {
            inner,
            connected: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct NotifyingConnector<S> {
    inner: S,
    connected: Arc<tokio::sync::Notify>,
}

impl<S, R> tower_service::Service<R> for NotifyingConnector<S>
where
    S: tower_service::Service<R>,
    // reqwest's connector future is boxed already: no second box here.
    S::Future: Unpin,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Notifying<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        Notifying {
            connecting: self.inner.call(request),
            connected: self.connected.clone(),
        }
    }
}

/// A connection being made; wakes [`Pool::connected`] when it is done.
struct Notifying<F> {
    connecting: F,
    connected: Arc<tokio::sync::Notify>,
}

impl<F: std::future::Future + Unpin> std::future::Future for Notifying<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let done = std::task::ready!(std::pin::Pin::new(&mut self.connecting).poll(cx));
        self.connected.notify_waiters();
        std::task::Poll::Ready(done)
    }
}

/// Requests to a TLS host that the pool has not heard from lately wait for
/// the first of them to be connected (or answered). hyper learns from each
/// handshake (ALPN) whether a server speaks HTTP/2, so a burst sent before a
/// connection is up would open a connection per request, where one HTTP/2
/// connection serves them all. "Lately" is within the pool's idle timeout:
/// past it, the connection that answered is gone.
#[derive(Default)]
pub struct FirstRequests {
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

#[derive(Default)]
struct Host {
    /// When a request to it was last connected or answered (ms since
    /// [`epoch`], plus one: 0 is never).
    answered: AtomicU64,
    turn: Arc<tokio::sync::Mutex<()>>,
}

/// A request's turn to go; see [`FirstRequests`].
pub struct Turn {
    host: Arc<Host>,
    /// Held by the first request to a host until its connection is up.
    pub first: Option<tokio::sync::OwnedMutexGuard<()>>,
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl Host {
    fn answered_lately(&self) -> bool {
        let at = self.answered.load(Ordering::Acquire);
        at != 0
            && epoch().elapsed().as_millis() as u64 + 1 - at < POOL_IDLE_TIMEOUT.as_millis() as u64
    }
}

impl FirstRequests {
    /// Wait for a request to `url` to have its turn: at once when the host
    /// answered lately (or the request is not over TLS), else one at a time.
    pub async fn turn(&self, url: &url::Url) -> Option<Turn> {
        if url.scheme() != "https" {
            return None;
        }
        let host = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(url.origin().ascii_serialization())
                .or_default()
                .clone()
        };
        let alone = if host.answered_lately() {
            None
        } else {
            let guard = host.turn.clone().lock_owned().await;
            // The request before this one may have been answered meanwhile.
            (!host.answered_lately()).then_some(guard)
        };
        Some(Turn { host, first: alone })
    }
}

impl Turn {
    /// The request was connected or answered: later ones to the host go at
    /// once.
    pub fn heard_from(&self) {
        let now = epoch().elapsed().as_millis() as u64 + 1;
        self.host.answered.store(now, Ordering::Release);
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").finish_non_exhaustive()
    }
}

/// Live transports by settings, so that handles made independently with the
/// same settings share connections too.
static TRANSPORTS: Mutex<Option<HashMap<TransportSettings, Weak<Transport>>>> = Mutex::new(None);

impl Transport {
    /// The transport for `settings`: the live one if there is one.
    pub fn for_settings(settings: &TransportSettings) -> Result<Arc<Transport>> {
        let mut map = TRANSPORTS.lock().unwrap_or_else(|p| p.into_inner());
        let map = map.get_or_insert_with(HashMap::new);
        if let Some(transport) = map.get(settings).and_then(Weak::upgrade) {
            return Ok(transport);
        }
        map.retain(|_, weak| weak.strong_count() > 0);
        let tls = crate::tls::client_config(settings.ca_certificate_pem.as_deref())?;
        let transport = Arc::new(Transport {
            settings: settings.clone(),
            tls,
            pools: PerRuntime::default(),
        });
        map.insert(settings.clone(), Arc::downgrade(&transport));
        Ok(transport)
    }

    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    /// The proxy (`host:port`) a request to `url` goes through, if any.
    pub fn proxy_for(&self, url: &url::Url) -> Option<String> {
        let authority =
            |host: Option<&str>, port: Option<u16>| Some(format!("{}:{}", host?, port?));
        match &self.settings.proxy {
            ProxySetting::Direct => None,
            ProxySetting::Url(proxy) => authority(proxy.host_str(), proxy.port_or_known_default()),
            ProxySetting::FromEnvironment => {
                // What reqwest decided, asked again (for a failed
                // connection's message, and for each request's debug line
                // when someone reads it): the same rules, from the same
                // environment.
                let uri: ::http::Uri = url.as_str().parse().ok()?;
                let intercept =
                    hyper_util::client::proxy::matcher::Matcher::from_env().intercept(&uri)?;
                let proxy = intercept.uri();
                let port = proxy.port_u16().or(match proxy.scheme_str() {
                    Some("https") => Some(443),
                    _ => Some(80),
                });
                authority(proxy.host(), port)
            }
        }
    }

    /// The pool of the runtime this thread is in.
    pub fn pool(&self) -> Result<Pool> {
        self.pools.get_or_try_init(|| {
            let connected = Arc::new(tokio::sync::Notify::new());
            Ok(Pool {
                http: build_client(&self.settings, &self.tls, &connected)?,
                first: Arc::default(),
                connected,
            })
        })
    }
}

fn build_client(
    settings: &TransportSettings,
    tls: &rustls::ClientConfig,
    connected: &Arc<tokio::sync::Notify>,
) -> Result<reqwest::Client> {
    let user_agent = settings
        .user_agent
        .clone()
        .unwrap_or_else(|| concat!("libchatbotkit/", env!("CARGO_PKG_VERSION")).to_owned());
    let mut builder = reqwest::Client::builder()
        // The library retries as the SDK does (client::http); reqwest's own
        // retry layer would only clone every request for nothing.
        .retry(reqwest::retry::never())
        // Redirects are followed by the library, as fetch follows them
        // (client::http::follow_redirects).
        .redirect(reqwest::redirect::Policy::none())
        // Stated, not left to reqwest's default: the header promises it.
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .user_agent(user_agent);
    // Only the workers' client sends bursts (see FirstRequests); on a lane
    // the layer would only cost every request a clone of the connector.
    if !crate::runtime::on_a_lane() {
        builder = builder.connector_layer(NotifyOnConnect(connected.clone()));
    }
    builder = match &settings.proxy {
        // reqwest reads HTTP(S)_PROXY, ALL_PROXY and NO_PROXY as libcurl
        // does (Node's fetch ignores them: a deliberate difference).
        ProxySetting::FromEnvironment => builder,
        ProxySetting::Direct => builder.no_proxy(),
        ProxySetting::Url(url) => builder
            .proxy(reqwest::Proxy::all(url.as_str()).map_err(|_| {
                Error::invalid_argument("option `proxy` is not a usable proxy URL")
            })?),
    };
    // Plain http: stays HTTP/1.1 either way (no prior-knowledge HTTP/2).
    let mut alpn = vec![b"http/1.1".to_vec()];
    if settings.http2 {
        alpn.insert(0, b"h2".to_vec());
    } else {
        builder = builder.http1_only();
    }
    if let Some(t) = settings.connect_timeout {
        builder = builder.connect_timeout(t);
    }
    let mut tls = tls.clone();
    // A TLS session cache per client (per runtime, like the pools): one
    // shared with the parent's runtimes could be left locked by a fork()
    // there, and the child's first handshake would wait on it forever.
    tls.resumption = rustls::client::Resumption::default();
    tls.alpn_protocols = alpn;
    builder = builder.use_preconfigured_tls(tls);
    builder
        .build()
        .map_err(|e| Error::internal(format!("the HTTP client could not be built: {e}")))
}
