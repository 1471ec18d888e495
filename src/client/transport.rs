//! Connection pools: one [`Transport`] per distinct set of transport
//! settings, shared by every handle with those settings. A transport keeps
//! one `reqwest::Client` (one pool) per runtime (see
//! [`runtime::PerRuntime`]), because a connection belongs to the runtime
//! that opened it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::options::TransportSettings;
use super::{Error, Result};
use crate::runtime::PerRuntime;

/// The connection pools of one set of transport settings.
pub struct Transport {
    settings: TransportSettings,
    /// The TLS settings for a pinned certificate, checked once, here, so
    /// that a bad one fails at `_new` rather than at the first call.
    tls: Option<rustls::ClientConfig>,
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
        let tls = match &settings.ca_certificate_pem {
            Some(pem) => Some(crate::tls::client_config(pem)?),
            None => None,
        };
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

    /// The HTTP client for the runtime this thread is in.
    pub fn client(&self) -> Result<reqwest::Client> {
        self.clients
            .get_or_try_init(|| build_client(&self.settings, self.tls.as_ref()))
    }
}

fn build_client(
    settings: &TransportSettings,
    tls: Option<&rustls::ClientConfig>,
) -> Result<reqwest::Client> {
    let user_agent = settings
        .user_agent
        .clone()
        .unwrap_or_else(|| concat!("libchatbotkit/", env!("CARGO_PKG_VERSION")).to_owned());
    // Environment proxies are not used, as Node's fetch does not use them.
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        // The library retries as the SDK does (client::http); reqwest's own
        // retry layer would only clone every request for nothing.
        .retry(reqwest::retry::never())
        // Redirects are followed by the library, as fetch follows them
        // (client::http::follow_redirects).
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent);
    if let Some(t) = settings.connect_timeout {
        builder = builder.connect_timeout(t);
    }
    if let Some(tls) = tls {
        builder = builder.use_preconfigured_tls(tls.clone());
    }
    builder
        .build()
        .map_err(|e| Error::internal(format!("the HTTP client could not be built: {e}")))
}
