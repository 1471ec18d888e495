//! [`PerRuntime`]: a value kept once per runtime (each lane, and the
//! workers), for values bound to the runtime that made them. An HTTP client
//! is one: its connections are tasks and sockets of the runtime it first
//! ran on, and only that runtime can drive them.

use std::sync::{Mutex, OnceLock};

use super::{generation, keep_forever, lanes, state};
use crate::error::Result;

/// One value per runtime of the current generation, made on first use
/// there. In a forked child the parent's values are left alone (they own
/// the parent's sockets) and the child makes its own.
///
/// Dropping it drops each value where its runtime can act on that at once:
/// a lane is turned so that the connections its value owned are closed now.
pub struct PerRuntime<T: Clone + Send + Sync + 'static> {
    home: Values<T>,
    /// The values of a forked child's generation, made there on first use.
    child: Mutex<Option<Box<Values<T>>>>,
}

struct Values<T> {
    generation: u64,
    /// One per lane, then one for the workers.
    slots: Box<[OnceLock<T>]>,
}

impl<T> Values<T> {
    fn new() -> Values<T> {
        Values {
            generation: generation(),
            slots: (0..=lanes::max_lanes()).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The value for the runtime the calling thread is in.
    fn get_or_try_init(&self, make: impl FnOnce() -> Result<T>) -> Result<&T> {
        let slot = &self.slots[lanes::current().unwrap_or(self.slots.len() - 1)];
        if let Some(value) = slot.get() {
            return Ok(value);
        }
        let value = make()?;
        Ok(slot.get_or_init(|| value))
    }
}

impl<T: Clone + Send + Sync + 'static> Default for PerRuntime<T> {
    fn default() -> Self {
        PerRuntime {
            home: Values::new(),
            child: Mutex::new(None),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> PerRuntime<T> {
    /// The value for the runtime the calling thread is in (a lane it
    /// drives, else the workers), made with `make` on first use.
    pub fn get_or_try_init(&self, make: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.home.generation == generation() {
            return self.home.get_or_try_init(make).cloned();
        }
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        if child
            .as_ref()
            .map_or(true, |v| v.generation != generation())
        {
            // A grandchild: its parent's values are as off limits as ours.
            if let Some(old) = child.replace(Box::new(Values::new())) {
                keep_forever(old);
            }
        }
        let values = child.as_ref().expect("set above");
        values.get_or_try_init(make).cloned()
    }
}

impl<T: Clone + Send + Sync + 'static> Drop for PerRuntime<T> {
    fn drop(&mut self) {
        self.home.drop_values();
        if let Some(mut child) = self
            .child
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            child.drop_values();
        }
    }
}

impl<T: Send + Sync + 'static> Values<T> {
    /// Drop every value now, turning the lanes they were made on; values of
    /// another generation are forgotten instead (see [`PerRuntime`]).
    fn drop_values(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        if self.generation != generation() {
            keep_forever(slots);
            return;
        }
        let Ok(state) = state() else {
            return;
        };
        let lanes = lanes::max_lanes();
        for (index, slot) in Vec::from(slots).into_iter().enumerate() {
            let made = slot.into_inner().is_some();
            if made && index < lanes {
                state.lanes.settle(index);
            }
        }
    }
}
