//! Rebuild when a migration is added or edited: `sqlx::migrate!` embeds the directories at
//! compile time, and Cargo does not notice new files in them on its own.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
    println!("cargo:rerun-if-changed=../../migrations/postgres");
}
