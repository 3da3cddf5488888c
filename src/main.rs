//! The `casebook` binary: all the work is in the library; see `cli`.

#[global_allocator]
static ALLOC: casebook::alloc::CountingAlloc = casebook::alloc::CountingAlloc;

fn main() {
    std::process::exit(casebook::cli::main());
}
