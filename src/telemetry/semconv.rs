//! OpenTelemetry semantic-convention keys used by the lab, as constants,
//! and the Prometheus metric names they translate to.

pub const SERVICE_NAME: &str = "service.name";
pub const SERVICE_NAMESPACE: &str = "service.namespace";
pub const SERVICE_INSTANCE_ID: &str = "service.instance.id";
pub const SERVICE_VERSION: &str = "service.version";
pub const K8S_POD_NAME: &str = "k8s.pod.name";
pub const K8S_NODE_NAME: &str = "k8s.node.name";
pub const K8S_NAMESPACE_NAME: &str = "k8s.namespace.name";

pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
pub const HTTP_ROUTE: &str = "http.route";
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
pub const HTTP_REQUEST_RESEND_COUNT: &str = "http.request.resend_count";
pub const URL_PATH: &str = "url.path";
pub const URL_FULL: &str = "url.full";
pub const SERVER_ADDRESS: &str = "server.address";
pub const SERVER_PORT: &str = "server.port";
pub const ERROR_TYPE: &str = "error.type";
pub const DB_SYSTEM: &str = "db.system.name";
pub const DB_OPERATION_NAME: &str = "db.operation.name";
pub const DB_COLLECTION_NAME: &str = "db.collection.name";
pub const DB_QUERY_TEXT: &str = "db.query.text";
pub const ENDUSER_ID: &str = "enduser.id";
pub const EXCEPTION_TYPE: &str = "exception.type";
pub const EXCEPTION_MESSAGE: &str = "exception.message";

/// Lab-specific attributes (namespaced `app.` as the conventions advise).
pub const APP_PRODUCT_ID: &str = "app.product.id";
pub const APP_PRODUCT_CATEGORY: &str = "app.product.category";
pub const APP_CACHE_HIT: &str = "app.cache.hit";
pub const APP_USER_ID: &str = "app.user.id";

pub const HTTP_SERVER_DURATION: &str = "http_server_request_duration_seconds";
pub const HTTP_CLIENT_DURATION: &str = "http_client_request_duration_seconds";
pub const DB_CLIENT_DURATION: &str = "db_client_operation_duration_seconds";

/// The OpenTelemetry default explicit buckets for HTTP durations (seconds).
pub const HTTP_BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
