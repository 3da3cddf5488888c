//! The `casebook` binary: all the work is in the library; see `cli`.

#[global_allocator]
static ALLOC: casebook::alloc::CountingAlloc = casebook::alloc::CountingAlloc;

fn main() {
    // `casebook export … | head` ends quietly when `head` has had enough, as
    // Unix tools do, instead of failing (or panicking) on the closed pipe.
    // Every command commits its changes before it prints, so nothing is cut short.
    #[cfg(unix)]
    // SAFETY: restores the default action of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(casebook::cli::main());
}
