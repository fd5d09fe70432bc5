//! staticfile_buildpack end to end: a site is detected and staged with the
//! file server component, which answers pages, directories, 404s, ranges,
//! conditional requests and gzip like CF's nginx; the buildpack cache
//! survives between stagings of the app.

mod common;

use std::io::Read;
use std::path::Path;

use common::TestPlatform;
use reqwest::header::HeaderMap;

struct Site(tempfile::TempDir);

impl Site {
    fn new(files: &[(&str, &[u8])]) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let site = Site(dir);
        for (name, bytes) in files {
            site.write(name, bytes);
        }
        site
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        let path = self.0.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

async fn fetch(platform: &TestPlatform, host: &str, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Vec<u8>) {
    // No redirects followed (nor bodies decompressed): the test sees what was sent.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = client.get(format!("{}{path}", platform.router)).header("host", host);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_site_is_served_like_nginx_serves_it() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let css = "body { color: #333; margin: 0 auto; }\n".repeat(40);
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let site = Site::new(&[
        ("index.html", b"<h1>home</h1>"),
        ("about/index.html", b"<h1>about</h1>"),
        ("css/site.css", css.as_bytes()),
        ("data.bin", &data),
        (".secret", b"not for you"),
    ]);
    let staging = platform.push("site", site.path(), &["-m", "32M"]).await;
    assert!(staging.contains("staticfile_buildpack detected staticfile"), "{staging}");
    assert!(staging.contains("first staging of this app"), "{staging}");
    let host = "site.localhost";

    let (status, headers, body) = fetch(&platform, host, "/", &[]).await;
    assert_eq!((status, body.as_slice()), (200, b"<h1>home</h1>".as_slice()));
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");

    let (status, headers, _) = fetch(&platform, host, "/about", &[]).await;
    assert_eq!((status, header(&headers, "location")), (301, "/about/"));
    assert_eq!(fetch(&platform, host, "/about/", &[]).await.2, b"<h1>about</h1>");

    for missing in ["/nope.html", "/.secret", "/%2e%2e/%2e%2e/etc/passwd", "/.staticfile/server.wasm"] {
        assert_eq!(fetch(&platform, host, missing, &[]).await.0, 404, "{missing}");
    }

    // gzip for clients that take it; the same bytes once unzipped.
    let (status, headers, body) = fetch(&platform, host, "/css/site.css", &[("accept-encoding", "gzip")]).await;
    assert_eq!((status, header(&headers, "content-encoding")), (200, "gzip"));
    assert_eq!(header(&headers, "content-type"), "text/css; charset=utf-8");
    assert!(body.len() < css.len() / 4, "compressed: {} of {} bytes", body.len(), css.len());
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(body.as_slice()).read_to_string(&mut unzipped).unwrap();
    assert_eq!(unzipped, css);
    let (_, headers, body) = fetch(&platform, host, "/css/site.css", &[]).await;
    assert_eq!((header(&headers, "content-encoding"), body.len()), ("", css.len()));

    // Ranges.
    let (status, headers, body) = fetch(&platform, host, "/data.bin", &[("range", "bytes=10-19")]).await;
    assert_eq!((status, header(&headers, "content-range")), (206, "bytes 10-19/1000"));
    assert_eq!(body, &data[10..20]);
    assert_eq!(header(&headers, "content-type"), "application/octet-stream");
    let (status, _, body) = fetch(&platform, host, "/data.bin", &[("range", "bytes=-5")]).await;
    assert_eq!((status, body.as_slice()), (206, &data[995..]));
    let (status, headers, _) = fetch(&platform, host, "/data.bin", &[("range", "bytes=5000-")]).await;
    assert_eq!((status, header(&headers, "content-range")), (416, "bytes */1000"));

    // Conditional requests.
    let (_, headers, _) = fetch(&platform, host, "/data.bin", &[]).await;
    let (etag, modified) = (header(&headers, "etag").to_string(), header(&headers, "last-modified").to_string());
    assert!(chrono::DateTime::parse_from_rfc2822(&modified).is_ok(), "an HTTP date: {modified}");
    assert_eq!(fetch(&platform, host, "/data.bin", &[("if-none-match", &etag)]).await.0, 304);
    assert_eq!(fetch(&platform, host, "/data.bin", &[("if-modified-since", &modified)]).await.0, 304);
    assert_eq!(fetch(&platform, host, "/data.bin", &[("if-none-match", "\"other\"")]).await.0, 200);

    // The buildpack cache survives: the next staging knows what changed.
    site.write("index.html", b"<h1>home, again</h1>");
    let staging = platform.push("site", site.path(), &["-m", "32M"]).await;
    assert!(staging.contains("1 new or changed, 0 removed"), "{staging}");
    assert_eq!(fetch(&platform, host, "/", &[]).await.2, b"<h1>home, again</h1>");
    platform.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staticfile_picks_the_root_and_pushstate() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let site = Site::new(&[
        ("Staticfile", b"root: public\npushstate: enabled\n"),
        ("public/index.html", b"<div id=app></div>"),
        ("public/404.html", b"never used with pushstate"),
        ("README.md", b"outside the root"),
    ]);
    platform.push("spa", site.path(), &["-m", "32M"]).await;
    assert_eq!(fetch(&platform, "spa.localhost", "/", &[]).await.2, b"<div id=app></div>");
    let (status, _, body) = fetch(&platform, "spa.localhost", "/users/42", &[]).await;
    assert_eq!((status, body.as_slice()), (200, b"<div id=app></div>".as_slice()), "pushstate serves the app");
    let (_, _, body) = fetch(&platform, "spa.localhost", "/README.md", &[]).await;
    assert_eq!(body, b"<div id=app></div>", "files outside the root are not served");
    platform.shutdown().await;
}

/// Links in the pushed directory reach the app as links (copies where the
/// DEA's host cannot make links: see `dea/links.rs`); one leaving the app
/// fails the upload and keeps what was there.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_in_a_site_are_served_and_links_out_of_it_refused() {
    let platform = TestPlatform::start("local:").await;
    platform.login().await;
    let site = Site::new(&[("index.html", b"<h1>home</h1>"), ("releases/v2/notes.html", b"<p>v2 notes</p>")]);
    std::os::unix::fs::symlink("releases/v2", site.path().join("latest")).unwrap();
    std::os::unix::fs::symlink("index.html", site.path().join("home.html")).unwrap();
    platform.push("linked", site.path(), &["-m", "32M"]).await;
    let host = "linked.localhost";
    assert_eq!(fetch(&platform, host, "/latest/notes.html", &[]).await.2, b"<p>v2 notes</p>");
    assert_eq!(fetch(&platform, host, "/home.html", &[]).await.2, b"<h1>home</h1>");

    std::os::unix::fs::symlink("../../etc/passwd", site.path().join("passwd")).unwrap();
    let out = platform.wf(&["push", "linked", "-p", site.path().to_str().unwrap(), "-m", "32M"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("link passwd points outside the app (../../etc/passwd)"), "{stderr}");
    assert_eq!(fetch(&platform, host, "/latest/notes.html", &[]).await.0, 200, "the app kept its package");
    platform.shutdown().await;
}
