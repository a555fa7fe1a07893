//! Resources: the entity that produced telemetry (a pod of a service), with
//! the OpenTelemetry resource attributes the lab uses.

use super::semconv;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId(pub u32);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub service_name: Arc<str>,
    pub service_namespace: Arc<str>,
    pub service_version: Arc<str>,
    /// Unique per replica; equal to the pod name.
    pub instance_id: Arc<str>,
    pub pod: Arc<str>,
    pub node: Arc<str>,
}

impl Resource {
    /// The resource attributes in a stable order.
    pub fn attributes(&self) -> [(&'static str, &str); 6] {
        [
            (semconv::SERVICE_NAME, &self.service_name),
            (semconv::SERVICE_NAMESPACE, &self.service_namespace),
            (semconv::SERVICE_VERSION, &self.service_version),
            (semconv::SERVICE_INSTANCE_ID, &self.instance_id),
            (semconv::K8S_POD_NAME, &self.pod),
            (semconv::K8S_NODE_NAME, &self.node),
        ]
    }
}
