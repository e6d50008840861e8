//! One fit at a time per process, so that a fit is a function of its inputs and seed.
//!
//! libtorch draws every random number (initial weights, gate noise, dropout masks, mini-batch
//! order) from one process-wide generator, and tch offers no generator of one's own per call. A
//! fit seeds that generator and then draws from it until it ends, so two fits running at once on
//! two threads would interleave their draws and change each other's results. stog's fits
//! (`Selector` fits, sweep groups) therefore run inside [`exclusive_rng`]: a process-wide lock,
//! held for the whole fit. Fits started on several threads give exactly the results each gives
//! alone; they run one after another (each still uses libtorch's intra-op threads).

use std::cell::Cell;
use std::sync::{Mutex, PoisonError};

static LOCK: Mutex<()> = Mutex::new(());

thread_local! {
    /// Whether this thread holds [`LOCK`] (a fit inside a fit must not wait for itself).
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` while no other thread runs a stog fit: libtorch's random generator is this thread's
/// alone for the duration. Re-entrant on the thread that holds it. Wrap your own training code in
/// it when it runs beside stog's fits on other threads and draws random numbers through libtorch
/// (building tch layers, `Tensor::randn`, dropout).
pub fn exclusive_rng<T>(f: impl FnOnce() -> T) -> T {
    if HELD.get() {
        return f();
    }
    // A fit that panicked leaves nothing behind that a later fit reads: its seed is set anew.
    let _lock = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    struct Release;
    impl Drop for Release {
        fn drop(&mut self) {
            HELD.set(false);
        }
    }
    HELD.set(true);
    let _release = Release;
    f()
}
