//! [`PerRuntime`]: a value kept once per runtime (each lane, and the
//! workers), for values bound to the runtime that made them. An HTTP client
//! is one: its connections are tasks and sockets of the runtime it first
//! ran on, and only that runtime can drive them.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;

use super::{generation, keep_forever, lanes, state};
use crate::error::Result;

/// One value per runtime of the current generation, made on first use
/// there. In a forked child the parent's values are left alone (they own
/// the parent's sockets) and the child makes its own.
///
/// Dropping it drops each value where its runtime can act on that at once:
/// a lane is turned so that the connections its value owned are closed now.
pub struct PerRuntime<T: Clone + Send + Sync + 'static> {
    /// The values of the generation the `PerRuntime` was made in.
    made_in: Values<T>,
    /// A forked child's values, made there on first use and published
    /// without a lock (a grandchild could otherwise inherit it held).
    forked: AtomicPtr<Values<T>>,
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
            made_in: Values::new(),
            forked: AtomicPtr::new(std::ptr::null_mut()),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> PerRuntime<T> {
    /// The value for the runtime the calling thread is in (a lane it
    /// drives, else the workers), made with `make` on first use.
    ///
    /// Call it from inside the future that will use the value, where the
    /// runtime is the one that will drive it: called outside, it would hand
    /// out the workers' value.
    pub fn get_or_try_init(&self, make: impl FnOnce() -> Result<T>) -> Result<T> {
        debug_assert!(
            tokio::runtime::Handle::try_current().is_ok(),
            "PerRuntime used outside the runtime that would use its value"
        );
        if self.made_in.generation == generation() {
            return self.made_in.get_or_try_init(make).cloned();
        }
        self.forked_values().get_or_try_init(make).cloned()
    }

    /// This generation's values in a forked child.
    fn forked_values(&self) -> &Values<T> {
        loop {
            let current = self.forked.load(Ordering::Acquire);
            // Null, or from Box::into_raw below and freed only by Drop.
            // SAFETY: so it lives as long as `self`.
            if let Some(values) = unsafe { current.as_ref() } {
                if values.generation == generation() {
                    return values;
                }
            }
            let new = Box::into_raw(Box::new(Values::new()));
            match self
                .forked
                .compare_exchange(current, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if !current.is_null() {
                        // A grandchild: its parent's values are as off
                        // limits as ours.
                        // SAFETY: unpublished now, and never freed before.
                        keep_forever(unsafe { Box::from_raw(current) });
                    }
                }
                // SAFETY: `new` was never published: it is still ours alone.
                Err(_) => drop(unsafe { Box::from_raw(new) }),
            }
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Drop for PerRuntime<T> {
    fn drop(&mut self) {
        self.made_in.drop_values();
        let forked = std::mem::replace(self.forked.get_mut(), std::ptr::null_mut());
        if !forked.is_null() {
            // SAFETY: published by forked_values, freed only here.
            unsafe { Box::from_raw(forked) }.drop_values();
        }
    }
}

impl<T: Send + Sync + 'static> Values<T> {
    /// Drop every value now, turning the lanes they were made on; values of
    /// another generation are kept instead (see [`PerRuntime`]).
    fn drop_values(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        if self.generation != generation() {
            keep_forever(slots);
            return;
        }
        let lanes = lanes::max_lanes();
        for (index, slot) in Vec::from(slots).into_iter().enumerate() {
            let made = slot.into_inner().is_some();
            if made && index < lanes {
                state().lanes.turn_now(index);
            }
        }
    }
}
