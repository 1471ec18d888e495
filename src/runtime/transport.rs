//! Connection pools: one `reqwest::Client` per distinct set of transport
//! settings, shared by every handle with those settings, and never shared
//! across a fork.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use super::{state, State, GENERATION};
use crate::client::options::TransportSettings;
use crate::client::{Error, Result};

/// A client's handle on the connection pool for its transport settings.
/// Clients with equal settings share one pool (one `reqwest::Client`).
#[derive(Debug)]
pub struct Transport {
    settings: TransportSettings,
    generation: u64,
    client: Arc<reqwest::Client>,
}

impl Transport {
    pub fn for_settings(settings: &TransportSettings) -> Result<Transport> {
        let state = state()?;
        Ok(Transport {
            settings: settings.clone(),
            generation: state.generation,
            client: pooled(state, settings)?,
        })
    }

    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    /// The HTTP client to use now: this transport's own, unless the process
    /// forked since it was made, in which case the child's pool.
    pub fn client(&self) -> Result<Arc<reqwest::Client>> {
        if self.generation == GENERATION.load(Ordering::Acquire) {
            return Ok(self.client.clone());
        }
        pooled(state()?, &self.settings)
    }
}

impl Drop for Transport {
    /// In a forked child, a parent-generation client is never dropped:
    /// closing its sockets would deregister them from the epoll instance the
    /// child shares with the parent, and break the parent's connections.
    fn drop(&mut self) {
        if self.generation != GENERATION.load(Ordering::Acquire) {
            std::mem::forget(self.client.clone());
        }
    }
}

fn pooled(state: &State, settings: &TransportSettings) -> Result<Arc<reqwest::Client>> {
    let mut pools = state.pools.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(client) = pools.get(settings).and_then(Weak::upgrade) {
        return Ok(client);
    }
    pools.retain(|_, weak| weak.strong_count() > 0);
    let client = Arc::new(build_client(settings)?);
    pools.insert(settings.clone(), Arc::downgrade(&client));
    Ok(client)
}

fn build_client(settings: &TransportSettings) -> Result<reqwest::Client> {
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
    if let Some(pem) = &settings.ca_certificate_pem {
        builder = builder.use_preconfigured_tls(crate::tls::client_config(pem)?);
    }
    builder
        .build()
        .map_err(|e| Error::internal(format!("the HTTP client could not be built: {e}")))
}
