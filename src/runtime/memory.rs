//! The per-run memory limit: Python's allocators, wrapped to count what each
//! run allocates.
//!
//! CPython takes memory from two places underneath its allocator domains.
//! Objects of up to 512 bytes live in pymalloc's arenas (1 MiB each on
//! 64-bit builds), which come from the arena allocator (told the size on
//! free as well); every larger block, and every small one pymalloc cannot
//! place, comes from the raw domain (`PyMem_RawMalloc`). [`install_raw`] and
//! [`install_arena`] wrap both. The wrappers call the original allocators
//! and add each block's size to the [`MemoryBudget`] of the run the
//! allocating thread works for: the worker while it executes the run, and
//! the threads the run started (the prelude's routed `Thread.run` calls
//! `OutputSink.count_memory`). An allocation that would take a run past its
//! limit fails, so Python raises `MemoryError` in that run, long before the
//! process runs out of memory, and the rest of the server never sees a
//! failed allocation.
//!
//! The count is net and approximate: memory freed by another run's thread
//! is credited to that run, and an arena is charged to whichever run needed
//! a new one. It bounds a runaway run; it is not an accountant.
//!
//! The raw wrapper learns a block's size from glibc (`malloc_usable_size`),
//! so it needs no header and frees any block correctly, whoever allocated
//! it. That requires the raw domain to be plain `malloc`: [`install_raw`]
//! runs before `Python::initialize`, only on glibc, and only while the
//! raw allocator is CPython's default. `PYTHONMALLOC` or `PYTHONDEVMODE` in
//! the environment make the interpreter pick another one as it starts, so
//! with either set the limit stays off (and start-up says so).
use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::OnceLock;

use pyo3::ffi::{PyMemAllocatorDomain, PyMemAllocatorEx, PyObjectArenaAllocator};

/// What one run may allocate, and what it has.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: isize,
    used: AtomicIsize,
    refused: AtomicBool,
}

impl MemoryBudget {
    pub fn new(limit_bytes: usize) -> MemoryBudget {
        MemoryBudget {
            limit: isize::try_from(limit_bytes).unwrap_or(isize::MAX),
            used: AtomicIsize::new(0),
            refused: AtomicBool::new(false),
        }
    }

    /// The limit, in bytes.
    pub fn limit_bytes(&self) -> usize {
        self.limit as usize
    }

    /// Whether an allocation was refused because of the limit.
    pub fn was_exceeded(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }

    fn charge(&self, bytes: usize) -> bool {
        if bytes == 0 {
            return true;
        }
        let bytes = bytes as isize;
        let before = self.used.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > self.limit {
            self.used.fetch_sub(bytes, Ordering::Relaxed);
            self.refused.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Changes the count by `delta` bytes, limit or not (frees are negative).
    fn adjust(&self, delta: isize) {
        self.used.fetch_add(delta, Ordering::Relaxed);
    }
}

thread_local! {
    /// The budget of the run this thread works for, if any.
    static CURRENT: Cell<*const MemoryBudget> = const { Cell::new(std::ptr::null()) };
}

/// Counts the calling thread's allocations against `budget` until the
/// returned guard is dropped. The budget must outlive the guard.
pub fn count_against(budget: &MemoryBudget) -> CountingGuard {
    let previous = CURRENT.with(|current| current.replace(budget));
    CountingGuard { previous }
}

/// Ends [`count_against`]; restores what the thread counted against before.
pub struct CountingGuard {
    previous: *const MemoryBudget,
}

impl Drop for CountingGuard {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.previous));
    }
}

/// Sets the calling thread's budget without a guard (for threads the prelude
/// manages from Python); `None` stops counting.
///
/// # Safety
/// The budget must stay alive until the thread sets another one or `None`.
pub unsafe fn set_thread_budget(budget: Option<&MemoryBudget>) {
    CURRENT.with(|current| current.set(budget.map_or(std::ptr::null(), |b| b as *const _)));
}

fn with_budget<T>(f: impl FnOnce(Option<&MemoryBudget>) -> T) -> T {
    // `try_with`: a thread being torn down still frees memory.
    let budget = CURRENT
        .try_with(|current| current.get())
        .unwrap_or(std::ptr::null());
    // SAFETY: whoever set the pointer keeps the budget alive while it is set.
    f(unsafe { budget.as_ref() })
}

/// An allocator table kept for the wrappers to call.
struct Original<T>(T);

// SAFETY: the tables are function pointers and contexts that CPython itself
// uses from every thread.
unsafe impl<T> Send for Original<T> {}
unsafe impl<T> Sync for Original<T> {}

static RAW_ORIGINAL: OnceLock<Original<PyMemAllocatorEx>> = OnceLock::new();
static ARENA_ORIGINAL: OnceLock<Original<PyObjectArenaAllocator>> = OnceLock::new();

/// Why the limit is off, if the environment turns it off.
pub fn disabled_by_environment() -> Option<&'static str> {
    ["PYTHONMALLOC", "PYTHONDEVMODE"]
        .into_iter()
        .find(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// Whether [`install_raw`] wrapped the raw allocator.
pub fn is_installed() -> bool {
    RAW_ORIGINAL.get().is_some()
}

/// Wraps the raw allocator, if it is CPython's default (`malloc`) on glibc.
/// Call once, before the interpreter starts.
pub fn install_raw() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        tracing::warn!("the per-run memory limit needs glibc (Linux); it is off on this build");
        return;
    }
    let mut raw = empty_allocator();
    // SAFETY: reading the current allocator table.
    unsafe { pyo3::ffi::PyMem_GetAllocator(PyMemAllocatorDomain::PYMEM_DOMAIN_RAW, &mut raw) };
    if !raw.ctx.is_null() {
        // Debug hooks (a debug build of Python) keep their state in `ctx`:
        // their blocks are not malloc's own.
        tracing::warn!(
            "the interpreter's raw allocator is not malloc; the per-run memory limit is off"
        );
        return;
    }
    if RAW_ORIGINAL.set(Original(raw)).is_err() {
        return;
    }
    let mut wrapper = PyMemAllocatorEx {
        ctx: std::ptr::null_mut(),
        malloc: Some(raw_malloc),
        calloc: Some(raw_calloc),
        realloc: Some(raw_realloc),
        free: Some(raw_free),
    };
    // SAFETY: the wrapper hands every call on to the original, unchanged.
    unsafe { pyo3::ffi::PyMem_SetAllocator(PyMemAllocatorDomain::PYMEM_DOMAIN_RAW, &mut wrapper) };
}

/// Wraps pymalloc's arena allocator. Call once, attached, after the
/// interpreter started (arenas are freed with their size).
pub fn install_arena() {
    let mut original = PyObjectArenaAllocator {
        ctx: std::ptr::null_mut(),
        alloc: None,
        free: None,
    };
    // SAFETY: reading the current arena allocator.
    unsafe { pyo3::ffi::PyObject_GetArenaAllocator(&mut original) };
    if ARENA_ORIGINAL.set(Original(original)).is_err() {
        return;
    }
    let mut wrapper = PyObjectArenaAllocator {
        ctx: std::ptr::null_mut(),
        alloc: Some(arena_alloc),
        free: Some(arena_free),
    };
    // SAFETY: the wrapper hands every call on to the original.
    unsafe { pyo3::ffi::PyObject_SetArenaAllocator(&mut wrapper) };
}

fn empty_allocator() -> PyMemAllocatorEx {
    PyMemAllocatorEx {
        ctx: std::ptr::null_mut(),
        malloc: None,
        calloc: None,
        realloc: None,
        free: None,
    }
}

fn raw() -> &'static PyMemAllocatorEx {
    &RAW_ORIGINAL.get().expect("installed before use").0
}

/// The bytes malloc reserved for `block` (at least what was asked for).
fn usable_size(block: *mut c_void) -> usize {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `block` is a live, non-null block from malloc (see install_raw).
        unsafe { libc::malloc_usable_size(block) }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = block;
        unreachable!("install_raw installs nothing off glibc")
    }
}

fn charge(size: usize) -> bool {
    with_budget(|budget| budget.is_none_or(|b| b.charge(size)))
}

fn credit(size: usize) {
    adjust(-(size as isize));
}

fn adjust(delta: isize) {
    with_budget(|budget| {
        if let Some(budget) = budget {
            budget.adjust(delta)
        }
    })
}

/// Settles the count once a block of `asked` bytes (already charged) exists.
fn settle(block: *mut c_void, asked: usize) -> *mut c_void {
    if block.is_null() {
        credit(asked);
    } else {
        adjust(usable_size(block) as isize - asked as isize);
    }
    block
}

extern "C" fn raw_malloc(_: *mut c_void, size: usize) -> *mut c_void {
    if !charge(size) {
        return std::ptr::null_mut();
    }
    let original = raw();
    settle((original.malloc.unwrap())(original.ctx, size), size)
}

extern "C" fn raw_calloc(_: *mut c_void, count: usize, element: usize) -> *mut c_void {
    let Some(size) = count.checked_mul(element) else {
        return std::ptr::null_mut();
    };
    if !charge(size) {
        return std::ptr::null_mut();
    }
    let original = raw();
    settle(
        (original.calloc.unwrap())(original.ctx, count, element),
        size,
    )
}

extern "C" fn raw_realloc(ctx: *mut c_void, block: *mut c_void, size: usize) -> *mut c_void {
    if block.is_null() {
        return raw_malloc(ctx, size);
    }
    let old = usable_size(block);
    let growth = size.saturating_sub(old);
    if !charge(growth) {
        return std::ptr::null_mut();
    }
    let original = raw();
    // On failure the original leaves `block` as it was.
    let moved = (original.realloc.unwrap())(original.ctx, block, size);
    if moved.is_null() {
        credit(growth);
    } else {
        adjust(usable_size(moved) as isize - (old + growth) as isize);
    }
    moved
}

extern "C" fn raw_free(_: *mut c_void, block: *mut c_void) {
    if block.is_null() {
        return;
    }
    credit(usable_size(block));
    let original = raw();
    (original.free.unwrap())(original.ctx, block);
}

fn arena_original() -> &'static PyObjectArenaAllocator {
    &ARENA_ORIGINAL.get().expect("installed before use").0
}

extern "C" fn arena_alloc(_: *mut c_void, size: usize) -> *mut c_void {
    if !charge(size) {
        return std::ptr::null_mut();
    }
    let original = arena_original();
    let arena = (original.alloc.unwrap())(original.ctx, size);
    if arena.is_null() {
        credit(size);
    }
    arena
}

extern "C" fn arena_free(_: *mut c_void, arena: *mut c_void, size: usize) {
    credit(size);
    let original = arena_original();
    (original.free.unwrap())(original.ctx, arena, size);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_refuses_past_its_limit_and_takes_credit() {
        let budget = MemoryBudget::new(100);
        assert!(budget.charge(60));
        assert!(!budget.charge(50));
        assert!(budget.was_exceeded());
        budget.adjust(-30);
        assert!(budget.charge(50));
        assert_eq!(budget.used.load(Ordering::Relaxed), 80);
    }

    #[test]
    fn the_guard_restores_the_previous_budget() {
        let outer = MemoryBudget::new(10);
        let inner = MemoryBudget::new(1000);
        let _outer = count_against(&outer);
        {
            let _inner = count_against(&inner);
            assert!(charge(500));
        }
        assert!(!charge(500));
        assert!(outer.was_exceeded() && !inner.was_exceeded());
    }
}
