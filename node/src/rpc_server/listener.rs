//! The RPC server's own accept loop: HTTP and WebSocket on one port, each connection served by
//! jsonrpsee's tower service, under a connection cap that holds when the connections are idle.
//!
//! jsonrpsee's `max_connections` counts requests in flight and WebSocket sessions, not sockets:
//! idle sockets are not counted, so a client that opens more of them than the node has file
//! descriptors exhausts the process, the accept loop then fails on every call (EMFILE) and no
//! client is served. Here:
//!
//! - every accepted socket counts against `max_connections` (from the configuration, never
//!   more than half the open-file limit, leaving the rest to RocksDB);
//! - at the cap a new connection is still served: the connection that has gone longest without
//!   a request, and has none in flight, is closed to make room (a flood of idle sockets cannot
//!   lock clients out); only when every connection has a request in flight is the newcomer
//!   closed;
//! - a request counts as in flight once its body has arrived whole; one whose body does not
//!   arrive within `request_timeout` is dropped with its connection, and a connection without a
//!   request in flight that completes none within `idle_timeout` (it never sent one, sent half
//!   of one, or stopped sending) is closed;
//! - accept errors (EMFILE, ENFILE, ECONNABORTED, …) back off, with a growing sleep capped at
//!   `max_accept_backoff`, and are logged once per run of errors, not on every attempt.
//!
//! Each connection's calls also draw on its own request bucket and its IP's
//! ([`super::limits`]), handed to the RPC middleware in the request's extensions; batch length
//! and subscriptions per connection are capped by jsonrpsee ([`services`]).
//!
//! A WebSocket session counts as active when its client sends a frame (requests, pongs to the
//! server's pings); jsonrpsee's ping configuration closes sessions whose client went silent.
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{
    serve_with_graceful_shutdown, BatchRequestConfig, HttpRequest, HttpResponse, Methods,
    PingConfig, Server, StopHandle, TowerServiceBuilder,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::layer::util::{Identity, Stack};

use crate::rpc_server::limits::{CallLimits, CallLimitsLayer, ClientBuckets, RateBuckets};
use crate::rpc_server::wallet_files::WalletFiles;

/// The largest JSON-RPC request body, over HTTP or in one WebSocket message.
pub const MAX_REQUEST_BODY: usize = 2 * 1024 * 1024;

/// The limits the listener enforces.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// Most open connections, idle ones included.
    pub max_connections: usize,
    /// A connection with no request in flight is closed after this long without one.
    pub idle_timeout: Duration,
    /// A request whose body has not arrived whole this long after its headers is dropped,
    /// with its connection.
    pub request_timeout: Duration,
    /// The largest request body received (jsonrpsee applies its own, lower, limit after).
    pub max_request_body: usize,
    /// The longest pause after a failed accept.
    pub max_accept_backoff: Duration,
    /// Most calls in one batch.
    pub max_batch_len: u32,
    /// Most subscriptions one WebSocket connection holds.
    pub max_subscriptions_per_connection: u32,
    /// Request rates per connection and per IP, and the time limit of a call.
    pub calls: CallLimits,
    /// Web origins allowed to call from a browser (`*`: any); empty: none.
    pub cors: Vec<String>,
}

impl ListenerConfig {
    /// The limits for a node configured with `configured_max` connections whose open-file
    /// limit is `nofile`: at most half the descriptors go to connections.
    pub fn for_limits(configured_max: u64, nofile: u64) -> ListenerConfig {
        let cap = configured_max.min(nofile / 2).max(1);
        ListenerConfig {
            max_connections: usize::try_from(cap).unwrap_or(usize::MAX),
            idle_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            max_request_body: MAX_REQUEST_BODY,
            max_accept_backoff: Duration::from_secs(1),
            max_batch_len: 100,
            max_subscriptions_per_connection: 64,
            calls: CallLimits {
                ip_requests_per_minute: std::num::NonZeroU32::new(120_000)
                    .unwrap_or(std::num::NonZeroU32::MAX),
                connection_requests_per_minute: std::num::NonZeroU32::new(60_000)
                    .unwrap_or(std::num::NonZeroU32::MAX),
                call_timeout: Duration::from_secs(30),
            },
            cors: Vec::new(),
        }
    }
}

/// One open connection, as the listener sees it.
struct Slot {
    /// When its last request ended (or it was accepted, or its WebSocket client last sent a
    /// frame), in ms since the registry's epoch.
    last_active_ms: AtomicU64,
    /// Requests in flight.
    in_flight: AtomicUsize,
    /// The connection was upgraded to WebSocket.
    upgraded: AtomicBool,
    /// The listener closed it: its socket fails every read and write from now on.
    closed: AtomicBool,
    /// The task reading the socket, woken when the connection is closed.
    reader: Mutex<Option<Waker>>,
}

impl Slot {
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let waker = self
            .reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0 && !self.closed.load(Ordering::SeqCst)
    }
}

/// The open connections.
struct Registry {
    epoch: Instant,
    next_id: AtomicU64,
    slots: Mutex<HashMap<u64, Arc<Slot>>>,
}

impl Registry {
    fn new() -> Arc<Registry> {
        Arc::new(Registry {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            slots: Mutex::new(HashMap::new()),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new connection. With `cap` open ones already, closes the one that has gone
    /// longest without a request to make room; `None` when every one has a request in flight.
    fn admit(self: &Arc<Self>, cap: usize) -> Option<(Arc<Slot>, SlotGuard)> {
        let mut slots = self.slots();
        let open = slots
            .values()
            .filter(|s| !s.closed.load(Ordering::SeqCst))
            .count();
        if open >= cap {
            let oldest = slots
                .values()
                .filter(|s| s.idle())
                .min_by_key(|s| s.last_active_ms.load(Ordering::SeqCst))?;
            oldest.close();
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            last_active_ms: AtomicU64::new(self.now_ms()),
            in_flight: AtomicUsize::new(0),
            upgraded: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            reader: Mutex::new(None),
        });
        slots.insert(id, slot.clone());
        Some((
            slot,
            SlotGuard {
                registry: self.clone(),
                id,
            },
        ))
    }

    /// Closes the HTTP connections without a request in flight that have gone `timeout`
    /// without one.
    fn sweep(&self, timeout: Duration) {
        let now = self.now_ms();
        let timeout = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        for slot in self.slots().values() {
            if slot.idle()
                && !slot.upgraded.load(Ordering::SeqCst)
                && now.saturating_sub(slot.last_active_ms.load(Ordering::SeqCst)) >= timeout
            {
                slot.close();
            }
        }
    }
}

/// Removes a connection from the registry when its socket is dropped.
struct SlotGuard {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.registry.slots().remove(&self.id);
    }
}

/// A socket the listener can close from outside: once its slot is closed, reads and writes
/// fail, which ends the HTTP connection or WebSocket session holding it, and dropping it
/// closes the descriptor.
struct TrackedStream {
    inner: TcpStream,
    slot: Arc<Slot>,
    registry: Arc<Registry>,
    _guard: SlotGuard,
}

fn closed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "closed by the RPC listener",
    )
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        {
            // Store the waker before looking at `closed`: `Slot::close` sets the flag before
            // taking the waker, so a close is never missed.
            let mut reader = this
                .slot
                .reader
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *reader = Some(cx.waker().clone());
            }
        }
        if this.slot.closed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(closed_error()));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(())))
            && buf.filled().len() > before
            && this.slot.upgraded.load(Ordering::SeqCst)
        {
            this.slot
                .last_active_ms
                .store(this.registry.now_ms(), Ordering::SeqCst);
        }
        read
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.slot.closed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(closed_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.slot.closed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(closed_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Counts a connection's requests in flight and records when the last one ended; marks the
/// connection upgraded when it switches to WebSocket.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    /// The wallet's static files, served under `/wallet/` instead of JSON-RPC.
    files: Arc<WalletFiles>,
    slot: Arc<Slot>,
    registry: Arc<Registry>,
    request_timeout: Duration,
    max_body: usize,
    /// The request buckets of this connection and its IP.
    buckets: ClientBuckets,
}

/// One request in flight; ending it (response produced or request dropped) stamps the slot.
struct InFlight {
    slot: Arc<Slot>,
    registry: Arc<Registry>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.slot
            .last_active_ms
            .store(self.registry.now_ms(), Ordering::SeqCst);
        self.slot.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A request body the listener has received whole.
type WholeBody = http_body_util::Full<bytes::Bytes>;

/// Why the listener dropped a request before handing it over.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("request body not received within {0:?}")]
    Timeout(Duration),
    #[error("request body unreadable or over {0} bytes")]
    Unreadable(usize),
}

impl<S, B, RB> tower::Service<HttpRequest<B>> for Tracked<S>
where
    S: tower::Service<
            HttpRequest<WholeBody>,
            Response = HttpResponse<RB>,
            Error = jsonrpsee::core::BoxError,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<jsonrpsee::core::BoxError>,
    RB: From<Vec<u8>> + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: HttpRequest<B>) -> Self::Future {
        request.extensions_mut().insert(self.buckets.clone());
        let mut inner = self.inner.clone();
        let slot = self.slot.clone();
        let registry = self.registry.clone();
        let (timeout, max_body) = (self.request_timeout, self.max_body);
        if WalletFiles::claims(request.uri().path()) {
            let files = self.files.clone();
            let path = request.uri().path().to_owned();
            let get = matches!(request.method().as_str(), "GET" | "HEAD");
            return Box::pin(async move {
                slot.in_flight.fetch_add(1, Ordering::SeqCst);
                let _guard = InFlight { slot, registry };
                file_response(&files, &path, get)
            });
        }
        Box::pin(async move {
            // Until its body is complete the request is not in flight: a client that sends
            // half a request holds an idle connection, which the cap may close.
            let (parts, body) = request.into_parts();
            let body = http_body_util::Limited::new(body, max_body);
            let body = match tokio::time::timeout(timeout, body.collect()).await {
                Err(_) => return Err(BodyError::Timeout(timeout).into()),
                Ok(Err(_)) => return Err(BodyError::Unreadable(max_body).into()),
                Ok(Ok(collected)) => collected.to_bytes(),
            };
            slot.in_flight.fetch_add(1, Ordering::SeqCst);
            let guard = InFlight { slot, registry };
            let response = inner
                .call(HttpRequest::from_parts(parts, WholeBody::new(body)))
                .await;
            if let Ok(r) = &response {
                if r.status().as_u16() == 101 {
                    guard.slot.upgraded.store(true, Ordering::SeqCst);
                }
            }
            drop(guard);
            response
        })
    }
}

/// The HTTP response to a request for a wallet file (`get`: a GET or HEAD).
fn file_response<RB: From<Vec<u8>>>(
    files: &WalletFiles,
    path: &str,
    get: bool,
) -> Result<HttpResponse<RB>, jsonrpsee::core::BoxError> {
    let r = if get {
        files.respond(path)
    } else {
        crate::rpc_server::wallet_files::FileResponse {
            status: 405,
            content_type: "text/plain; charset=utf-8",
            body: b"the wallet's files are read with GET".to_vec(),
            location: None,
        }
    };
    let mut builder = HttpResponse::<()>::builder()
        .status(r.status)
        .header("content-type", r.content_type)
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff");
    if let Some(location) = r.location {
        builder = builder.header("location", location);
    }
    Ok(builder.body(RB::from(r.body))?)
}

/// Backs off after failed accepts: a growing pause, one warning per run of failures.
struct AcceptBackoff {
    max: Duration,
    pause: Duration,
    failures: u64,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(5);

    fn new(max: Duration) -> AcceptBackoff {
        AcceptBackoff {
            max,
            pause: Duration::ZERO,
            failures: 0,
        }
    }

    /// Records a failure; returns how long to pause before the next accept.
    fn failed(&mut self, error: &io::Error, open: usize) -> Duration {
        if self.failures == 0 {
            tracing::warn!(
                %error,
                open_connections = open,
                "RPC accept failed; backing off (further failures not logged until an accept succeeds)"
            );
        }
        self.failures += 1;
        self.pause = if self.pause.is_zero() {
            Self::FIRST
        } else {
            (self.pause * 2).min(self.max)
        }
        .min(self.max);
        self.pause
    }

    fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::info!(
                failures = self.failures,
                "RPC accept recovered after failures"
            );
        }
        self.failures = 0;
        self.pause = Duration::ZERO;
    }
}

/// The jsonrpsee services the listener builds for each connection: calls under
/// [`CallLimitsLayer`], HTTP under the CORS policy.
pub(crate) type RpcServices = TowerServiceBuilder<
    Stack<CallLimitsLayer, Identity>,
    Stack<tower_http::cors::CorsLayer, Identity>,
>;

/// The jsonrpsee service builder for `config`: request and response size limits, the batch
/// and subscription caps, WebSocket pings, the call limits' middleware and the CORS policy.
pub(crate) fn services(config: &ListenerConfig) -> RpcServices {
    let max = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
    let server_config = jsonrpsee::server::ServerConfig::builder()
        .max_request_body_size(u32::try_from(MAX_REQUEST_BODY).unwrap_or(u32::MAX))
        .max_response_body_size(16 * 1024 * 1024)
        // The listener caps sockets; this caps what jsonrpsee counts (requests in flight and
        // WebSocket sessions), which never exceeds them.
        .max_connections(max)
        .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch_len))
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        // Sessions whose client stops answering pings are closed.
        .enable_ws_ping(PingConfig::new())
        .build();
    Server::builder()
        .set_config(server_config)
        .set_rpc_middleware(
            RpcServiceBuilder::new().layer(CallLimitsLayer::new(config.calls.call_timeout)),
        )
        .set_http_middleware(
            tower::ServiceBuilder::new().layer(crate::rpc_server::cors::layer(&config.cors)),
        )
        .to_service_builder()
}

/// Accepts connections on `listener` until `stop` fires, serving each with a jsonrpsee service
/// for `methods` built by `services`.
pub(crate) async fn run(
    listener: TcpListener,
    services: RpcServices,
    methods: Methods,
    stop: StopHandle,
    config: ListenerConfig,
    files: Arc<WalletFiles>,
) {
    let registry = Registry::new();
    let buckets = Arc::new(RateBuckets::new(&config.calls));
    let sweeper = {
        let registry = Arc::downgrade(&registry);
        let buckets = buckets.clone();
        let every = (config.idle_timeout / 4).max(Duration::from_millis(10));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(registry) = registry.upgrade() else {
                    break;
                };
                registry.sweep(config.idle_timeout);
                buckets.forget_idle();
            }
        })
    };
    let mut backoff = AcceptBackoff::new(config.max_accept_backoff);
    let stopped = stop.clone().shutdown();
    tokio::pin!(stopped);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stopped => break,
        };
        let (socket, peer) = match accepted {
            Ok(accepted) => {
                backoff.succeeded();
                accepted
            }
            Err(e) => {
                let pause = backoff.failed(&e, registry.slots().len());
                tokio::select! {
                    _ = tokio::time::sleep(pause) => continue,
                    _ = &mut stopped => break,
                }
            }
        };
        let Some((slot, guard)) = registry.admit(config.max_connections) else {
            tracing::debug!("RPC connection refused: every connection has a request in flight");
            continue;
        };
        if let Err(e) = socket.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let io = TrackedStream {
            inner: socket,
            slot: slot.clone(),
            registry: registry.clone(),
            _guard: guard,
        };
        let service = Tracked {
            inner: services.clone().build(methods.clone(), stop.clone()),
            files: files.clone(),
            slot,
            registry: registry.clone(),
            request_timeout: config.request_timeout,
            max_body: config.max_request_body,
            buckets: buckets.connection(peer.ip()),
        };
        let stopped = stop.clone().shutdown();
        tokio::spawn(async move {
            if let Err(e) = serve_with_graceful_shutdown(io, service, stopped).await {
                tracing::debug!(error = %e, "RPC connection ended");
            }
        });
    }
    sweeper.abort();
}

#[cfg(test)]
mod tests {
    use jsonrpsee::server::ServerHandle;

    use super::*;

    #[test]
    fn the_cap_is_the_configured_one_or_half_the_open_file_limit_whichever_is_lower() {
        assert_eq!(ListenerConfig::for_limits(512, 1024).max_connections, 512);
        assert_eq!(ListenerConfig::for_limits(512, 600).max_connections, 300);
        assert_eq!(ListenerConfig::for_limits(512, 1).max_connections, 1);
    }

    #[test]
    fn backoff_grows_to_its_cap_and_resets_after_a_success() {
        let mut b = AcceptBackoff::new(Duration::from_secs(1));
        let e = io::Error::from_raw_os_error(libc::EMFILE);
        let pauses: Vec<Duration> = (0..12).map(|_| b.failed(&e, 0)).collect();
        assert_eq!(pauses[0], AcceptBackoff::FIRST);
        assert!(pauses.windows(2).all(|w| w[1] >= w[0]), "{pauses:?}");
        assert_eq!(pauses[11], Duration::from_secs(1));
        b.succeeded();
        assert_eq!(b.failed(&e, 0), AcceptBackoff::FIRST);
    }

    #[test]
    fn the_sweep_closes_idle_http_connections_past_the_timeout_and_no_busy_or_websocket_one() {
        let registry = Registry::new();
        let (idle, _g1) = registry.admit(10).expect("room");
        let (busy, _g2) = registry.admit(10).expect("room");
        let (ws, _g3) = registry.admit(10).expect("room");
        busy.in_flight.fetch_add(1, Ordering::SeqCst);
        ws.upgraded.store(true, Ordering::SeqCst);
        registry.sweep(Duration::from_secs(3600));
        assert!(
            !idle.closed.load(Ordering::SeqCst),
            "not yet past the timeout"
        );
        std::thread::sleep(Duration::from_millis(5));
        registry.sweep(Duration::from_millis(1));
        assert!(idle.closed.load(Ordering::SeqCst));
        assert!(!busy.closed.load(Ordering::SeqCst));
        assert!(!ws.closed.load(Ordering::SeqCst));
    }

    /// A listener on a free port with `config`, serving an empty method table.
    async fn listening(config: ListenerConfig) -> (std::net::SocketAddr, ServerHandle) {
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = tcp.local_addr().expect("addr");
        let (stop, handle) = jsonrpsee::server::stop_channel();
        let services = services(&config);
        let methods: Methods = jsonrpsee::RpcModule::new(()).into();
        tokio::spawn(run(
            tcp,
            services,
            methods,
            stop,
            config,
            Arc::new(WalletFiles::in_dir("/nonexistent")),
        ));
        (addr, handle)
    }

    /// Reads until the peer closes the socket; panics if it stays open for 10 s: fifty times
    /// the timeouts under test, and below jsonrpsee's own 30 s first-request timeout, which
    /// must not be what closes it.
    async fn closed_by_listener(sock: &mut TcpStream) {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 1024];
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, sock.read(&mut buf)).await {
                Err(_) => panic!("the listener left the connection open"),
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(_)) => continue,
            }
        }
    }

    fn config(idle: Duration, request: Duration) -> ListenerConfig {
        ListenerConfig {
            idle_timeout: idle,
            request_timeout: request,
            ..ListenerConfig::for_limits(16, 1024)
        }
    }

    #[tokio::test]
    async fn a_request_whose_body_never_arrives_is_dropped_after_the_request_timeout() {
        use tokio::io::AsyncWriteExt;
        let (addr, _handle) = listening(config(
            Duration::from_secs(3600),
            Duration::from_millis(200),
        ))
        .await;
        let mut sock = TcpStream::connect(addr).await.expect("connect");
        sock.write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .expect("half a request");
        closed_by_listener(&mut sock).await;
    }

    #[tokio::test]
    async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
        let (addr, _handle) = listening(config(
            Duration::from_millis(200),
            Duration::from_secs(3600),
        ))
        .await;
        let mut sock = TcpStream::connect(addr).await.expect("connect");
        closed_by_listener(&mut sock).await;
    }

    #[tokio::test]
    async fn at_the_cap_a_connection_with_half_a_request_is_idle_and_closed_first() {
        use tokio::io::AsyncWriteExt;
        let cap2 = ListenerConfig {
            max_connections: 2,
            ..config(Duration::from_secs(3600), Duration::from_secs(3600))
        };
        let (addr, _handle) = listening(cap2).await;
        let mut half = TcpStream::connect(addr).await.expect("connect");
        half.write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .expect("half a request");
        // Let the listener read the headers, so the request has reached the service.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let silent = TcpStream::connect(addr).await.expect("connect");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _newcomer = TcpStream::connect(addr).await.expect("connect");
        closed_by_listener(&mut half).await;
        let mut byte = [0u8; 1];
        assert!(
            matches!(silent.try_read(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock),
            "the newer silent connection stays open"
        );
    }

    #[test]
    fn at_the_cap_the_connection_idle_longest_is_closed_and_a_busy_one_never() {
        let registry = Registry::new();
        let (first, _g1) = registry.admit(2).expect("room");
        std::thread::sleep(Duration::from_millis(5));
        let (second, _g2) = registry.admit(2).expect("room");
        // The first is older but has a request in flight: the second goes.
        first.in_flight.fetch_add(1, Ordering::SeqCst);
        let (_third, _g3) = registry.admit(2).expect("an idle one makes room");
        assert!(!first.closed.load(Ordering::SeqCst));
        assert!(second.closed.load(Ordering::SeqCst));
    }
}
