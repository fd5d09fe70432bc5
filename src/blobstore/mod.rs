//! The blobstore: CF's package, droplet, buildpack and buildpack-cache
//! buckets plus the SHA1 resource pool, over object_store (the local disk
//! for `wf up`, S3 or any S3-compatible server at scale).
//!
//! Keys are content addresses wherever CF used them: a package and a droplet
//! are stored under their SHA1, pool files under theirs, so the CC and DEAs
//! on different machines agree on names without talking.

pub mod package;

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use sha1::{Digest, Sha1};

#[derive(Clone)]
pub struct Blobstore {
    store: Arc<dyn ObjectStore>,
}

/// Blobstore keys, one function per bucket.
pub mod keys {
    pub fn package(sha1: &str) -> String {
        format!("packages/{sha1}")
    }
    pub fn droplet(sha1: &str) -> String {
        format!("droplets/{sha1}")
    }
    pub fn buildpack(name: &str, sha1: &str) -> String {
        format!("buildpacks/{name}_{sha1}.wasm")
    }
    pub fn buildpack_cache(app_guid: &str) -> String {
        format!("buildpack_cache/{app_guid}")
    }
    pub fn resource(sha1: &str) -> String {
        format!("resources/{}/{sha1}", &sha1[..2.min(sha1.len())])
    }
}

/// The directory of a `file://` URL's rest: `/srv/blobs`; on Windows
/// `file:///C:/blobs` names `C:/blobs` (and `file://C:\blobs` is taken as
/// written).
fn file_url_dir(rest: &str, windows_host: bool) -> &str {
    let drive = rest.as_bytes().get(..3).is_some_and(|b| b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':');
    if windows_host && drive { &rest[1..] } else { rest }
}

impl Blobstore {
    /// Opens the blobstore a URL names: `file:///abs/dir` or
    /// `s3://bucket/prefix`. S3 settings come from the usual AWS_* variables;
    /// the URL may name an S3-compatible server and its region
    /// (`s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1`),
    /// which is then addressed path-style.
    pub fn open(url: &str) -> Result<Blobstore> {
        let store: Arc<dyn ObjectStore> = if let Some(dir) = url.strip_prefix("file://") {
            let dir = file_url_dir(dir, cfg!(windows));
            std::fs::create_dir_all(dir).with_context(|| format!("creating blobstore directory {dir}"))?;
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
        } else if url.starts_with("s3://") {
            let parsed = url::Url::parse(url)?;
            let bucket = parsed.host_str().ok_or_else(|| anyhow!("no bucket in {url}"))?;
            let mut s3 = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket).with_allow_http(true);
            for (key, value) in parsed.query_pairs() {
                s3 = match key.as_ref() {
                    "endpoint" => s3.with_endpoint(value.as_ref()).with_virtual_hosted_style_request(false),
                    "region" => s3.with_region(value.as_ref()),
                    other => return Err(anyhow!("unknown blobstore_url setting {other:?} (endpoint, region)")),
                };
            }
            let s3 = s3.build()?;
            let prefix = parsed.path().trim_matches('/');
            if prefix.is_empty() { Arc::new(s3) } else { Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)) }
        } else {
            return Err(anyhow!("unsupported blobstore_url {url:?}: use file:///dir or s3://bucket/prefix"));
        };
        Ok(Blobstore { store })
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.store
            .put(&ObjectPath::from(key), PutPayload::from_bytes(bytes))
            .await
            .with_context(|| format!("storing blob {key}"))?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes> {
        let result = self.store.get(&ObjectPath::from(key)).await.with_context(|| format!("fetching blob {key}"))?;
        Ok(result.bytes().await?)
    }

    /// `None` when there is no such blob.
    pub async fn get_opt(&self, key: &str) -> Result<Option<Bytes>> {
        match self.store.get(&ObjectPath::from(key)).await {
            Ok(result) => Ok(Some(result.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("fetching blob {key}")),
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool> {
        match self.store.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("checking blob {key}")),
        }
    }
}

/// Hex SHA1 of some bytes: CF's fingerprint for files, packages and droplets.
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::file_url_dir;

    #[test]
    fn file_urls_name_drive_directories_on_windows() {
        assert_eq!(file_url_dir("/C:/wf/blobstore", true), "C:/wf/blobstore");
        assert_eq!(file_url_dir("C:\\wf\\blobstore", true), "C:\\wf\\blobstore");
        assert_eq!(file_url_dir("/srv/blobs", true), "/srv/blobs");
        assert_eq!(file_url_dir("/C:/wf", false), "/C:/wf", "on Unix `/C:` is a directory like any other");
    }
}
