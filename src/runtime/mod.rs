//! The wasmtime glue staging and instances share: one [`Runtime`] (engine
//! with async support and epoch interruption, ticking every
//! [`EPOCH_TICK`]), compiled components cached on disk by content and
//! engine, and per-guest state with CF-style limits ([`guest`]).
//! [`buildpack`] runs buildpack components; [`http`] serves wasi:http apps.

pub mod buildpack;
pub mod command;
pub mod guest;
pub mod http;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

use crate::blobstore::sha1_hex;

/// How often the epoch advances; deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    /// Where compiled components are kept between runs.
    cache_dir: PathBuf,
    /// Components compiled or loaded by this process, by cache key.
    loaded: Arc<Mutex<HashMap<String, Component>>>,
}

impl Runtime {
    pub fn new(cache_dir: &Path) -> Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let weak = engine.weak();
        std::thread::Builder::new().name("wasm-epoch".into()).spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })?;
        std::fs::create_dir_all(cache_dir).with_context(|| format!("creating {}", cache_dir.display()))?;
        Ok(Runtime { engine, cache_dir: cache_dir.to_path_buf(), loaded: Arc::default() })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Epoch ticks in a duration (at least one).
    pub fn ticks(duration: Duration) -> u64 {
        (duration.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
    }

    /// The component in `bytes`, compiled at most once per content and
    /// engine build: from memory, else from the disk cache, else compiled
    /// (off the async threads) and cached.
    pub async fn component(&self, bytes: &[u8]) -> Result<Component> {
        let key = format!("{}-{:016x}", sha1_hex(bytes), self.engine_hash());
        if let Some(component) = self.loaded.lock().expect("component cache").get(&key) {
            return Ok(component.clone());
        }
        let path = self.cache_dir.join(format!("{key}.cwasm"));
        let engine = self.engine.clone();
        let bytes = bytes.to_vec();
        let component = tokio::task::spawn_blocking(move || -> Result<Component> {
            if path.exists() {
                // SAFETY: the file was written by `Component::serialize` of an
                // engine with the same compatibility hash (it is in the name),
                // in a directory only this DEA writes.
                if let Ok(component) = unsafe { Component::deserialize_file(&engine, &path) } {
                    return Ok(component);
                }
            }
            let component = Component::new(&engine, &bytes)
                .map_err(|e| anyhow::Error::from(e).context("compiling the component"))?;
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, component.serialize()?).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
            Ok(component)
        })
        .await??;
        self.loaded.lock().expect("component cache").insert(key, component.clone());
        Ok(component)
    }

    fn engine_hash(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.finish()
    }
}
