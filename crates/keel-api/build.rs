//! Chooses the folder that `web_assets.rs` embeds: the built web app (`web/dist`) when
//! there is one, otherwise a one-page placeholder written here into OUT_DIR, so that
//! `cargo build` and `cargo test` work on a fresh clone without Node.js. The folder is
//! passed to the `rust-embed` derive as the `KEEL_WEB_DIR` environment variable.

use std::path::{Path, PathBuf};

const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Keel: web app not built</title>
  </head>
  <body>
    <h1>Keel</h1>
    <p>The web app was not built into this binary.</p>
    <p>
      <code>make run</code> builds it (<code>bash scripts/build-web.sh</code>, which needs
      Node.js and npm, then rebuilds Keel). By hand: <code>npm --prefix web ci</code>,
      <code>npm --prefix web run build</code>, then <code>cargo build -p keel</code>.
    </p>
    <p>The JSON API works without it: see <a href="/api/docs">/api/docs</a>.</p>
  </body>
</html>
"#;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    let folder = if dist.join("index.html").is_file() {
        // A rebuilt web app (new hashed file names) must be embedded again.
        println!("cargo:rerun-if-changed={}", dist.display());
        dist.canonicalize().expect("canonical path of web/dist")
    } else {
        // Watch the web folder so that building it (which creates web/dist) re-runs this
        // script. Watching the missing web/dist itself would re-run it on every build. The
        // watch is printed even if web/ is missing (cargo then re-runs the script each
        // build), so no build can stay stuck on the placeholder once the app is built.
        println!("cargo:rerun-if-changed={}", web.display());
        let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("web-placeholder");
        write_placeholder(&out);
        out
    };
    println!("cargo:rustc-env=KEEL_WEB_DIR={}", folder.display());
    println!("cargo:rerun-if-changed=build.rs");
}

fn write_placeholder(dir: &Path) {
    std::fs::create_dir_all(dir).expect("create the placeholder folder");
    let index = dir.join("index.html");
    // Keep the file (and its mtime) when it is already right.
    if std::fs::read_to_string(&index).ok().as_deref() != Some(PLACEHOLDER) {
        std::fs::write(&index, PLACEHOLDER).expect("write the placeholder index.html");
    }
}
