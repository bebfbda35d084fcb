//! Per-client limits on JSON-RPC calls, as a jsonrpsee RPC middleware: token-bucket request
//! rates per connection and per client IP (governor's GCRA buckets), and a time limit on each
//! call or batch. A call over a rate is answered with error 1007 `rate_limited` and the
//! milliseconds until the bucket admits it again; a call that outlasts the time limit with
//! error 1008 `request_timeout` (work already handed to a blocking thread, such as a query,
//! still stops at its fuel cap). Batch length and subscriptions per connection are jsonrpsee's
//! own limits, set where the server is built.
//!
//! The listener knows each connection's peer; it hands it to this middleware in the HTTP
//! request's extensions ([`ClientBuckets`]), which jsonrpsee copies into every call's.
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use civitas_rpc::errors;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use jsonrpsee::core::middleware::{Batch, Notification, RpcServiceT};
use jsonrpsee::types::{ErrorObjectOwned, Id, Request};
use jsonrpsee::MethodResponse;
use std::future::Future;
use std::pin::Pin;

/// The rate and time limits on calls.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// Requests one client IP may make per minute (a bucket of that many, refilled evenly).
    pub ip_requests_per_minute: NonZeroU32,
    /// Requests one connection may make per minute.
    pub connection_requests_per_minute: NonZeroU32,
    /// The longest a call or batch may take before it is answered with a timeout.
    pub call_timeout: Duration,
}

/// The buckets a connection's calls draw from: its own, and its IP's (shared with the IP's
/// other connections).
#[derive(Clone)]
pub(crate) struct ClientBuckets {
    ip: IpAddr,
    connection: Arc<DefaultDirectRateLimiter>,
    ips: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

/// The per-IP buckets of one server, and the quota of each new connection's bucket.
pub(crate) struct RateBuckets {
    ips: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    connection: Quota,
    /// One clock for every bucket: making a clock measures the CPU's time counter (tens of
    /// microseconds), so it is made once per server, not per connection or call.
    clock: DefaultClock,
}

impl RateBuckets {
    pub(crate) fn new(limits: &CallLimits) -> RateBuckets {
        let clock = DefaultClock::default();
        RateBuckets {
            ips: Arc::new(DefaultKeyedRateLimiter::new(
                Quota::per_minute(limits.ip_requests_per_minute),
                Default::default(),
                clock.clone(),
            )),
            connection: Quota::per_minute(limits.connection_requests_per_minute),
            clock,
        }
    }

    /// The buckets of a new connection from `ip`.
    pub(crate) fn connection(&self, ip: IpAddr) -> ClientBuckets {
        ClientBuckets {
            ip,
            connection: Arc::new(DefaultDirectRateLimiter::direct_with_clock(
                self.connection,
                self.clock.clone(),
            )),
            ips: self.ips.clone(),
        }
    }

    /// Forgets the IPs whose buckets are full again, so the table holds only recent clients.
    pub(crate) fn forget_idle(&self) {
        self.ips.retain_recent();
        self.ips.shrink_to_fit();
    }
}

/// Which bucket refused a call.
#[derive(Debug, Clone, Copy)]
enum Bucket {
    Connection,
    Ip,
}

impl Bucket {
    fn name(self) -> &'static str {
        match self {
            Bucket::Connection => "connection",
            Bucket::Ip => "ip",
        }
    }
}

impl ClientBuckets {
    /// Takes `n` requests from the connection's bucket, then from the IP's; on refusal, which
    /// bucket refused and how long until it would admit them (`None`: never, `n` is over the
    /// bucket's size).
    fn take(&self, n: NonZeroU32) -> Result<(), (Bucket, Option<Duration>)> {
        let clock = self.connection.clock();
        match self.connection.check_n(n) {
            Ok(Ok(())) => {}
            Ok(Err(not_until)) => {
                return Err((
                    Bucket::Connection,
                    Some(not_until.wait_time_from(clock.now())),
                ))
            }
            Err(_) => return Err((Bucket::Connection, None)),
        }
        match self.ips.check_key_n(&self.ip, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err((Bucket::Ip, Some(not_until.wait_time_from(clock.now())))),
            Err(_) => Err((Bucket::Ip, None)),
        }
    }
}

/// Error 1007: the client's request rate is over a limit.
fn rate_limited(bucket: Bucket, retry_after: Option<Duration>) -> ErrorObjectOwned {
    let per = match bucket {
        Bucket::Connection => "this connection",
        Bucket::Ip => "this client address",
    };
    let (message, retry_ms) = match retry_after {
        Some(d) => {
            let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1);
            (
                format!("too many requests from {per}: retry in {ms} ms"),
                Some(ms),
            )
        }
        None => (
            format!("the batch holds more requests than {per} may make at once"),
            None,
        ),
    };
    ErrorObjectOwned::owned(
        errors::RATE_LIMITED,
        message,
        Some(serde_json::json!({
            "code": "rate_limited",
            "limit": bucket.name(),
            "retry_after_ms": retry_ms,
        })),
    )
}

/// Error 1008: the call took longer than the node allows.
fn timed_out(timeout: Duration) -> ErrorObjectOwned {
    let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    ErrorObjectOwned::owned(
        errors::REQUEST_TIMEOUT,
        format!("the request took longer than this node's limit of {ms} ms"),
        Some(serde_json::json!({ "code": "request_timeout", "timeout_ms": ms })),
    )
}

/// The middleware's layer.
#[derive(Debug, Clone, Copy)]
pub struct CallLimitsLayer {
    timeout: Duration,
}

impl CallLimitsLayer {
    /// Calls answered with a timeout after `timeout`; rates are read from each call's
    /// [`ClientBuckets`] (a call without them is not rate-limited).
    pub fn new(timeout: Duration) -> CallLimitsLayer {
        CallLimitsLayer { timeout }
    }
}

impl<S> tower::Layer<S> for CallLimitsLayer {
    type Service = CallLimited<S>;

    fn layer(&self, inner: S) -> CallLimited<S> {
        CallLimited {
            inner,
            timeout: self.timeout,
        }
    }
}

/// The RPC service under the limits.
#[derive(Debug, Clone)]
pub struct CallLimited<S> {
    inner: S,
    timeout: Duration,
}

impl<S> RpcServiceT for CallLimited<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl std::future::Future<Output = MethodResponse> + Send + 'a {
        let inner = self.inner.clone();
        let timeout = self.timeout;
        let refused = request
            .extensions()
            .get::<ClientBuckets>()
            .and_then(|b| b.take(NonZeroU32::MIN).err());
        let fut: Pin<Box<dyn Future<Output = MethodResponse> + Send + 'a>> = Box::pin(async move {
            let id = request.id().into_owned();
            if let Some((bucket, retry)) = refused {
                tracing::debug!(
                    method = request.method_name(),
                    limit = bucket.name(),
                    "RPC call rate-limited"
                );
                return MethodResponse::error(id, rate_limited(bucket, retry));
            }
            match tokio::time::timeout(timeout, inner.call(request)).await {
                Ok(response) => response,
                Err(_) => MethodResponse::error(id, timed_out(timeout)),
            }
        });
        fut
    }

    fn batch<'a>(
        &self,
        mut batch: Batch<'a>,
    ) -> impl std::future::Future<Output = MethodResponse> + Send + 'a {
        let inner = self.inner.clone();
        let timeout = self.timeout;
        let n = NonZeroU32::new(u32::try_from(batch.len()).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        let refused = batch
            .extensions()
            .get::<ClientBuckets>()
            .and_then(|b| b.take(n).err());
        let fut: Pin<Box<dyn Future<Output = MethodResponse> + Send + 'a>> = Box::pin(async move {
            if let Some((bucket, retry)) = refused {
                return MethodResponse::error(Id::Null, rate_limited(bucket, retry));
            }
            match tokio::time::timeout(timeout, inner.batch(batch)).await {
                Ok(response) => response,
                Err(_) => MethodResponse::error(Id::Null, timed_out(timeout)),
            }
        });
        fut
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl std::future::Future<Output = MethodResponse> + Send + 'a {
        self.inner.notification(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(ip: u32, connection: u32) -> CallLimits {
        CallLimits {
            ip_requests_per_minute: NonZeroU32::new(ip).expect("nonzero"),
            connection_requests_per_minute: NonZeroU32::new(connection).expect("nonzero"),
            call_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_connection_over_its_rate_is_refused_with_a_retry_hint_and_a_new_one_is_not() {
        let buckets = RateBuckets::new(&limits(1000, 2));
        let ip: IpAddr = [127, 0, 0, 1].into();
        let first = buckets.connection(ip);
        assert!(first.take(NonZeroU32::MIN).is_ok());
        assert!(first.take(NonZeroU32::MIN).is_ok());
        let (bucket, retry) = first
            .take(NonZeroU32::MIN)
            .expect_err("third within a minute");
        assert!(matches!(bucket, Bucket::Connection));
        assert!(retry.is_some_and(|d| d > Duration::ZERO && d <= Duration::from_secs(30)));
        assert!(buckets.connection(ip).take(NonZeroU32::MIN).is_ok());
    }

    #[test]
    fn an_ip_over_its_rate_is_refused_on_every_connection_and_another_ip_is_not() {
        let buckets = RateBuckets::new(&limits(2, 1000));
        let ip: IpAddr = [127, 0, 0, 1].into();
        assert!(buckets.connection(ip).take(NonZeroU32::MIN).is_ok());
        assert!(buckets.connection(ip).take(NonZeroU32::MIN).is_ok());
        let (bucket, _) = buckets
            .connection(ip)
            .take(NonZeroU32::MIN)
            .expect_err("third from the IP");
        assert!(matches!(bucket, Bucket::Ip));
        let other: IpAddr = [127, 0, 0, 2].into();
        assert!(buckets.connection(other).take(NonZeroU32::MIN).is_ok());
    }
}
