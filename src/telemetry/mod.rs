//! The OpenTelemetry and Prometheus data model of the lab's signals: ids,
//! spans, metrics, logs, profiles, resources, semantic-convention names, and
//! the exporters that write them in standard formats.

pub mod export;
pub mod ids;
pub mod log;
pub mod metric;
pub mod resource;
pub mod semconv;
pub mod span;
