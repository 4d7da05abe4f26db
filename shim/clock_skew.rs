//! The clock-skew shim: a tiny shared library the `clock_skew` fault preloads into a service
//! (`LD_PRELOAD`), so the service's wall clock runs `CARGO_GATE_CLOCK_OFFSET_NS` nanoseconds
//! ahead (or behind, when negative). Monotonic clocks are left alone, as timeouts and sleeps
//! must still work. It replaces Debian's libfaketime for this one job, so neither cargo-gate's
//! users nor its tests need a system package.
//!
//! Built by `build.rs` with the same `rustc` as cargo-gate, `no_std` and without an allocator:
//! it runs inside processes written in any language and must not bring a runtime with it.
//! What it covers: `clock_gettime` on the realtime clocks, `gettimeofday` and `time` — what
//! glibc programs (C, C++, Rust, Python, the JVM) read the date from. Programs that read the
//! clock with raw system calls (Go) are not affected, as with libfaketime.

#![no_std]
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_int, c_long, c_void};
use core::sync::atomic::{AtomicI64, AtomicPtr, AtomicU8, Ordering};

type time_t = i64;
type clockid_t = c_int;

#[repr(C)]
pub struct timespec {
    tv_sec: time_t,
    tv_nsec: c_long,
}

#[repr(C)]
pub struct timeval {
    tv_sec: time_t,
    tv_usec: c_long,
}

unsafe extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn getenv(name: *const c_char) -> *const c_char;
    fn abort() -> !;
}

/// glibc's `RTLD_NEXT`: the next definition after this library's.
const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;

const CLOCK_REALTIME: clockid_t = 0;
const CLOCK_REALTIME_COARSE: clockid_t = 5;
const CLOCK_REALTIME_ALARM: clockid_t = 8;
const CLOCK_TAI: clockid_t = 11;

const NS: i64 = 1_000_000_000;

static OFFSET: AtomicI64 = AtomicI64::new(0);
/// 0: not read yet, 1: read.
static READ: AtomicU8 = AtomicU8::new(0);
static REAL_CLOCK_GETTIME: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
static REAL_GETTIMEOFDAY: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());

/// The offset in nanoseconds, read from the environment once (a racing first read by two
/// threads reads the same value twice, which is harmless).
fn offset() -> i64 {
    if READ.load(Ordering::Acquire) == 1 {
        return OFFSET.load(Ordering::Relaxed);
    }
    // SAFETY: the name is NUL-terminated; getenv returns NULL or a NUL-terminated string.
    let value = unsafe { getenv(c"CARGO_GATE_CLOCK_OFFSET_NS".as_ptr()) };
    let parsed = if value.is_null() {
        0
    } else {
        // SAFETY: as above, the string ends at its NUL.
        parse(unsafe { core::ffi::CStr::from_ptr(value) }.to_bytes())
    };
    OFFSET.store(parsed, Ordering::Relaxed);
    READ.store(1, Ordering::Release);
    parsed
}

/// A signed decimal; anything else (or an overflow) is no offset at all.
fn parse(s: &[u8]) -> i64 {
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return 0;
    }
    let mut n: i64 = 0;
    for d in digits {
        if !d.is_ascii_digit() {
            return 0;
        }
        n = match n.checked_mul(10).and_then(|n| n.checked_add(i64::from(d - b'0'))) {
            Some(n) => n,
            None => return 0,
        };
    }
    if negative { -n } else { n }
}

fn real(slot: &AtomicPtr<c_void>, name: &core::ffi::CStr) -> *mut c_void {
    let mut f = slot.load(Ordering::Acquire);
    if f.is_null() {
        // SAFETY: dlsym with RTLD_NEXT and a NUL-terminated name.
        f = unsafe { dlsym(RTLD_NEXT, name.as_ptr()) };
        if f.is_null() {
            // Without the real function there is no clock at all: better to stop loudly.
            // SAFETY: abort never returns.
            unsafe { abort() }
        }
        slot.store(f, Ordering::Release);
    }
    f
}

fn shift(sec: &mut time_t, frac: &mut c_long, per_sec: i64) {
    let off = offset();
    if off == 0 {
        return;
    }
    let unit = NS / per_sec;
    let total = i64::from(*frac) + (off % NS) / unit;
    let mut s = sec.saturating_add(off / NS);
    let mut f = total;
    if f >= per_sec {
        f -= per_sec;
        s = s.saturating_add(1);
    } else if f < 0 {
        f += per_sec;
        s = s.saturating_sub(1);
    }
    *sec = s;
    *frac = f as c_long;
}

/// # Safety
/// As `clock_gettime(2)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clock_gettime(clock: clockid_t, tp: *mut timespec) -> c_int {
    let f = real(&REAL_CLOCK_GETTIME, c"clock_gettime");
    // SAFETY: `f` is libc's clock_gettime, with the same signature.
    let real_fn: unsafe extern "C" fn(clockid_t, *mut timespec) -> c_int =
        unsafe { core::mem::transmute(f) };
    // SAFETY: the caller's arguments, passed on.
    let rc = unsafe { real_fn(clock, tp) };
    if rc == 0
        && !tp.is_null()
        && matches!(
            clock,
            CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_REALTIME_ALARM | CLOCK_TAI
        )
    {
        // SAFETY: the real call succeeded, so `tp` points at a timespec.
        let t = unsafe { &mut *tp };
        shift(&mut t.tv_sec, &mut t.tv_nsec, NS);
    }
    rc
}

/// # Safety
/// As `gettimeofday(2)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gettimeofday(tv: *mut timeval, tz: *mut c_void) -> c_int {
    let f = real(&REAL_GETTIMEOFDAY, c"gettimeofday");
    // SAFETY: `f` is libc's gettimeofday.
    let real_fn: unsafe extern "C" fn(*mut timeval, *mut c_void) -> c_int =
        unsafe { core::mem::transmute(f) };
    // SAFETY: the caller's arguments, passed on.
    let rc = unsafe { real_fn(tv, tz) };
    if rc == 0 && !tv.is_null() {
        // SAFETY: the real call succeeded, so `tv` points at a timeval.
        let t = unsafe { &mut *tv };
        shift(&mut t.tv_sec, &mut t.tv_usec, 1_000_000);
    }
    rc
}

/// # Safety
/// As `time(2)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn time(out: *mut time_t) -> time_t {
    let mut ts = timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec on our stack.
    if unsafe { clock_gettime(CLOCK_REALTIME, &mut ts) } != 0 {
        return -1;
    }
    if !out.is_null() {
        // SAFETY: the caller gave a place for the result.
        unsafe { *out = ts.tv_sec };
    }
    ts.tv_sec
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: abort never returns.
    unsafe { abort() }
}
