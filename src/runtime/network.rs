//! What a guest may reach over the network, decided by one [`SocketCheck`]
//! (the DEA builds it from the app's port and security groups):
//! wasi:sockets asks it about every bind, listen, connect and send
//! ([`allow_network`]); wasi:http's outgoing requests, which the host makes
//! for the guest, are held to the same rule ([`CheckedRequests`]): every
//! address the destination resolves to must be one the guest could
//! connect to itself.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::BodyExt;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks, default_send_request};

/// Whether a guest may use a socket address for a purpose.
pub type SocketCheck = Arc<dyn Fn(SocketAddr, SocketAddrUse) -> bool + Send + Sync>;

/// Gives a guest TCP, UDP and name lookups, every address checked by `check`.
pub fn allow_network(wasi: &mut WasiCtxBuilder, check: SocketCheck) {
    wasi.allow_tcp(true).allow_udp(true).allow_ip_name_lookup(true);
    wasi.socket_addr_check(move |addr, usage| Box::pin(std::future::ready(check(addr, usage))));
}

/// wasi:http hooks that send a guest's request only where it may connect.
pub struct CheckedRequests {
    pub check: Option<SocketCheck>,
}

type SendFuture = Box<
    dyn Future<Output = Result<(http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>), Error>>
        + Send,
>;

impl WasiHttpHooks for CheckedRequests {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _request_errors: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let check = self.check.clone();
        Box::new(async move {
            let uri = request.uri();
            let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?.trim_matches(['[', ']']).to_string();
            let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), port)).await.map_err(|_| Error::DestinationNotFound)?.collect();
            let allowed = check.is_some_and(|check| {
                !addresses.is_empty() && addresses.iter().all(|address| check(*address, SocketAddrUse::TcpConnect))
            });
            if !allowed {
                return Err(Error::HttpRequestDenied);
            }
            let (response, io) = default_send_request(request, options).await?;
            Ok((response.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}
