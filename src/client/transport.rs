//! Connection pools: one [`Transport`] per distinct set of transport
//! settings, shared by every handle with those settings. A transport keeps
//! one `reqwest::Client` (one pool) per runtime (see
//! [`runtime::PerRuntime`]), because a connection belongs to the runtime
//! that opened it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

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
    clients: PerRuntime<reqwest::Client>,
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
            clients: PerRuntime::default(),
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
                // What reqwest decided, asked again (only when a connection
                // failed): the same rules, from the same environment.
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

    /// The HTTP client for the runtime this thread is in.
    pub fn client(&self) -> Result<reqwest::Client> {
        self.clients
            .get_or_try_init(|| build_client(&self.settings, &self.tls))
    }
}

fn build_client(
    settings: &TransportSettings,
    tls: &rustls::ClientConfig,
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
