//! Rebuilds the binary when the web app's build output changes, so the assets
//! embedded by rust-embed are always the current ones.

fn main() {
    println!("cargo:rerun-if-changed=web/dist");
    println!("cargo:rerun-if-changed=migrations");
}
