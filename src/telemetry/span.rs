//! Spans in the OpenTelemetry model. The store keeps each span as a compact
//! [`SpanRecord`] (ids, times, the operation it ran, a few dynamic fields)
//! and an [`Operation`] table holds what many spans share (name, kind,
//! static attributes); [`Span`] is the full view built on demand.

use super::ids::{SpanId, TraceId};
use super::resource::ResourceId;
use super::semconv as sc;
use crate::sim::time::SimTime;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpanKind {
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

impl SpanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
    /// The OTLP enum name (`SPAN_KIND_SERVER`).
    pub fn otlp_name(self) -> &'static str {
        match self {
            SpanKind::Internal => "SPAN_KIND_INTERNAL",
            SpanKind::Server => "SPAN_KIND_SERVER",
            SpanKind::Client => "SPAN_KIND_CLIENT",
            SpanKind::Producer => "SPAN_KIND_PRODUCER",
            SpanKind::Consumer => "SPAN_KIND_CONSUMER",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum StatusCode {
    #[default]
    Unset = 0,
    Ok = 1,
    Error = 2,
}

impl StatusCode {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Unset => "unset",
            StatusCode::Ok => "ok",
            StatusCode::Error => "error",
        }
    }
}

/// Why a span failed, as `error.type` and the exception it records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ErrorType {
    #[default]
    None,
    Timeout,
    ConnectionPoolTimeout,
    ClientCancelled,
    ServerError,
    NotFound,
    BadGateway,
    DbTimeout,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::None => "",
            ErrorType::Timeout => "timeout",
            ErrorType::ConnectionPoolTimeout => "connection_pool_timeout",
            ErrorType::ClientCancelled => "client_cancelled",
            ErrorType::ServerError => "500",
            ErrorType::NotFound => "404",
            ErrorType::BadGateway => "502",
            ErrorType::DbTimeout => "db_timeout",
        }
    }
    /// Exception type and message for the span's exception event, if any.
    pub fn exception(self) -> Option<(&'static str, &'static str)> {
        match self {
            ErrorType::Timeout => Some(("TimeoutError", "request timed out waiting for the response")),
            ErrorType::ConnectionPoolTimeout => Some(("PoolTimeoutError", "timed out waiting for a connection from the pool")),
            ErrorType::ClientCancelled => Some(("CancelledError", "client closed the connection before the response")),
            ErrorType::ServerError => Some(("InternalServerError", "unhandled error in handler")),
            ErrorType::BadGateway => Some(("BadGatewayError", "upstream returned an invalid response")),
            ErrorType::DbTimeout => Some(("QueryTimeoutError", "canceling statement due to statement timeout")),
            ErrorType::None | ErrorType::NotFound => None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(pub u32);

/// An attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    Str(Arc<str>),
    Int(i64),
    Double(f64),
    Bool(bool),
}

impl std::fmt::Display for AttrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttrValue::Str(s) => write!(f, "{s}"),
            AttrValue::Int(i) => write!(f, "{i}"),
            AttrValue::Double(d) => write!(f, "{d}"),
            AttrValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// What every span of one kind of work shares: its name, kind and the
/// attributes fixed by the topology (route, method, db system, peer).
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub name: Arc<str>,
    pub kind: SpanKind,
    pub attributes: Vec<(&'static str, AttrValue)>,
}

/// A span as stored. `parent == SpanId::INVALID` marks a root.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpanRecord {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent: SpanId,
    pub start: SimTime,
    pub end: SimTime,
    pub op: OpId,
    pub resource: ResourceId,
    pub status: StatusCode,
    pub error: ErrorType,
    /// HTTP status for HTTP spans, 0 otherwise.
    pub http_status: u16,
    /// Retry attempt number (`http.request.resend_count`), 0 for the first try.
    pub resend: u8,
    /// 0: not a cache span, 1: hit, 2: miss.
    pub cache: u8,
    /// Product id (1-based) or 0.
    pub product: u32,
    /// Product category (1-based index into the scenario's list) or 0.
    pub category: u16,
    /// User id (1-based) or 0.
    pub user: u32,
    /// Fault that slowed or failed this span (1-based index into the ground truth), 0 if none.
    pub cause: u16,
}

impl SpanRecord {
    pub fn duration_us(&self) -> i64 {
        self.end.0 - self.start.0
    }
    pub fn is_root(&self) -> bool {
        !self.parent.is_valid()
    }
}

/// A timed event on a span (an exception, a retry).
#[derive(Clone, Debug, PartialEq)]
pub struct SpanEvent {
    pub time: SimTime,
    pub name: Arc<str>,
    pub attributes: Vec<(&'static str, AttrValue)>,
}

/// The full OpenTelemetry view of a span, built from a record and its operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent: SpanId,
    pub name: Arc<str>,
    pub kind: SpanKind,
    pub start: SimTime,
    pub end: SimTime,
    pub status: StatusCode,
    pub status_message: &'static str,
    pub resource: ResourceId,
    pub attributes: Vec<(&'static str, AttrValue)>,
    pub events: Vec<SpanEvent>,
}

/// Builds the full span; `categories` maps category indexes to names.
pub fn materialize(r: &SpanRecord, op: &Operation, categories: &[Arc<str>]) -> Span {
    let mut attributes = op.attributes.clone();
    if r.http_status != 0 {
        attributes.push((sc::HTTP_RESPONSE_STATUS_CODE, AttrValue::Int(r.http_status as i64)));
    }
    if r.resend != 0 {
        attributes.push((sc::HTTP_REQUEST_RESEND_COUNT, AttrValue::Int(r.resend as i64)));
    }
    if r.cache != 0 {
        attributes.push((sc::APP_CACHE_HIT, AttrValue::Bool(r.cache == 1)));
    }
    if r.product != 0 {
        attributes.push((sc::APP_PRODUCT_ID, AttrValue::Str(format!("P{:05}", r.product).into())));
    }
    if r.category != 0 {
        if let Some(c) = categories.get(r.category as usize - 1) {
            attributes.push((sc::APP_PRODUCT_CATEGORY, AttrValue::Str(c.clone())));
        }
    }
    if r.user != 0 {
        attributes.push((sc::APP_USER_ID, AttrValue::Str(format!("u{:05}", r.user).into())));
    }
    let mut events = Vec::new();
    if r.error != ErrorType::None {
        attributes.push((sc::ERROR_TYPE, AttrValue::Str(r.error.as_str().into())));
        if let Some((ty, msg)) = r.error.exception() {
            events.push(SpanEvent {
                time: r.end,
                name: "exception".into(),
                attributes: vec![
                    (sc::EXCEPTION_TYPE, AttrValue::Str(ty.into())),
                    (sc::EXCEPTION_MESSAGE, AttrValue::Str(msg.into())),
                ],
            });
        }
    }
    Span {
        trace_id: r.trace_id,
        span_id: r.span_id,
        parent: r.parent,
        name: op.name.clone(),
        kind: op.kind,
        start: r.start,
        end: r.end,
        status: r.status,
        status_message: if r.status == StatusCode::Error { r.error.exception().map(|e| e.1).unwrap_or("") } else { "" },
        resource: r.resource,
        attributes,
        events,
    }
}
