//! Rebuild when a migration is added or edited: `sqlx::migrate!` embeds the directory at
//! compile time, and Cargo does not notice new files in it on its own.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
}
