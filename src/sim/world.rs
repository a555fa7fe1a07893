//! The static world built from a scenario model: replicas (pods) placed on
//! nodes with their Kubernetes-style names and OpenTelemetry resources,
//! handler programs flattened into an arena of step lists, and the span
//! operation table.

use super::dense::Dense;
use super::rng::stable_hash;
use crate::scenario::model::{Model, Runtime, Step, StepKind};
use crate::store::TraceStore;
use crate::telemetry::resource::{Resource, ResourceId};
use crate::telemetry::semconv as sc;
use crate::telemetry::span::{AttrValue, OpId, Operation, SpanKind};
use std::sync::Arc;

pub type ListId = u32;

/// One step of a flattened handler program.
#[derive(Clone, Copy, Debug)]
pub enum Node {
    Cpu { median_us: f64, sigma: f64, leaf: u8 },
    Call { service: u16, endpoint: u16, timeout_us: i64, retries: u8, op: OpId },
    Db { ds: u16, pool: Option<u8>, median_us: f64, sigma: f64, error_ratio: f64, timeout_us: i64, op: OpId },
    Cache { ds: u16, pool: Option<u8>, median_us: f64, sigma: f64, hit_ratio: f64, on_miss: Option<ListId>, op: OpId },
    External { ds: u16, median_us: f64, sigma: f64, error_ratio: f64, timeout_us: i64, op: OpId },
    /// Branches `branches[first..first + len]`, each a list run concurrently.
    Parallel { first: u32, len: u32 },
}

#[derive(Clone, Copy, Debug)]
pub struct StepNode {
    pub node: Node,
    pub probability: f64,
}

#[derive(Clone, Debug)]
pub struct ReplicaInfo {
    pub service: u16,
    pub index: u16,
    pub node: u16,
    pub resource: ResourceId,
    pub pod: Arc<str>,
}

pub struct World {
    pub lists: Dense<Dense<StepNode>>,
    pub branches: Dense<ListId>,
    /// [service][endpoint] → the handler's list and its server operation.
    pub handlers: Dense<Dense<(ListId, OpId)>>,
    pub replicas: Dense<ReplicaInfo>,
    /// [service] → replica indexes.
    pub service_replicas: Dense<Dense<u32>>,
    pub resources: Vec<Resource>,
    /// Folded-stack prefixes per [service][endpoint].
    pub frames: Vec<Vec<Arc<str>>>,
    /// (method, route) strings per [service][endpoint], shared by every log record.
    pub names: Dense<Dense<(Arc<str>, Arc<str>)>>,
}

/// A Kubernetes-like pod name, stable for a service: `name-<10 hex>-<5 chars>`.
pub fn pod_name(namespace: &str, service: &str, index: u32) -> String {
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let rs = stable_hash(&[namespace.as_bytes(), service.as_bytes(), b"rs"]);
    let mut suffix = String::new();
    let mut h = stable_hash(&[namespace.as_bytes(), service.as_bytes(), &index.to_le_bytes()]);
    for _ in 0..5 {
        suffix.push(ALPHA[(h % ALPHA.len() as u64) as usize] as char);
        h /= ALPHA.len() as u64;
    }
    format!("{service}-{:010x}-{suffix}", rs & 0xff_ffff_ffff)
}

/// `/api/books/{id}` -> `ApiBooksId`. Only ASCII first letters are
/// capitalised: `char::to_uppercase` would bring the standard library's
/// Unicode uppercase table (about 12 KB) into the browser build for this
/// alone.
fn camel(route: &str) -> String {
    let mut out = String::new();
    for part in route.split(['/', '{', '}', '-', '_']).filter(|p| !p.is_empty()) {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            out.push(f.to_ascii_uppercase());
            out.push_str(c.as_str());
        }
    }
    if out.is_empty() {
        out.push_str("Index");
    }
    out
}

/// The folded-stack prefix of a handler, in the idiom of its runtime.
fn handler_frames(runtime: Runtime, service: &str, method: &str, route: &str) -> String {
    let h = format!("{}{}", method.to_ascii_lowercase(), camel(route));
    let pkg = service.replace('-', "");
    match runtime {
        Runtime::Jvm => format!(
            "java.lang.Thread.run;org.eclipse.jetty.util.thread.QueuedThreadPool$Runner.run;org.springframework.web.servlet.DispatcherServlet.doDispatch;com.shop.{pkg}.web.Controller.{h}"
        ),
        Runtime::Go => format!("runtime.goexit;net/http.(*conn).serve;net/http.HandlerFunc.ServeHTTP;main.{h}"),
        Runtime::Python => format!("<module>;uvicorn.run;starlette.routing.Route.handle;app.routes.{}", h),
        Runtime::Node => format!("processTicksAndRejections;express.Router.handle;routes.{h}"),
    }
}

/// Leaf frames a handler's CPU time is split over, with their shares.
pub fn leaf_frames(runtime: Runtime) -> [(&'static str, f64); 3] {
    match runtime {
        Runtime::Jvm => [("com.shop.service.BusinessLogic.apply", 0.55), ("com.fasterxml.jackson.databind.ObjectMapper.writeValueAsBytes", 0.3), ("ch.qos.logback.classic.Logger.info", 0.15)],
        Runtime::Go => [("main.businessLogic", 0.55), ("encoding/json.Marshal", 0.3), ("log/slog.(*Logger).Info", 0.15)],
        Runtime::Python => [("app.service.business_logic", 0.55), ("json.dumps", 0.3), ("logging.Logger.info", 0.15)],
        Runtime::Node => [("businessLogic", 0.55), ("JSON.stringify", 0.3), ("pino.info", 0.15)],
    }
}

impl World {
    pub fn build(model: &Model, traces: &mut TraceStore) -> World {
        let mut w = World { lists: Dense::new(), branches: Dense::new(), handlers: Dense::new(), replicas: Dense::new(), service_replicas: Dense::new(), resources: Vec::new(), frames: Vec::new(), names: Dense::new() };
        // Replicas round-robin over their nodes, as a scheduler spreading a Deployment would.
        for (si, s) in model.services.iter().enumerate() {
            let mut ids = Vec::new();
            for r in 0..s.replicas {
                let node = s.nodes.get(r as usize % s.nodes.len().max(1)).copied().unwrap_or(0);
                let pod: Arc<str> = pod_name(&model.namespace, &s.name, r).into();
                let res = ResourceId(w.resources.len() as u32);
                w.resources.push(Resource {
                    service_name: s.name.as_str().into(),
                    service_namespace: model.namespace.as_str().into(),
                    service_version: s.version.as_str().into(),
                    instance_id: pod.clone(),
                    pod: pod.clone(),
                    node: model.nodes.get(node).map(|n| n.name.as_str()).unwrap_or("node").into(),
                });
                ids.push(w.replicas.len() as u32);
                w.replicas.push(ReplicaInfo { service: si as u16, index: r as u16, node: node as u16, resource: res, pod });
            }
            w.service_replicas.push(ids.into());
        }
        for (si, s) in model.services.iter().enumerate() {
            let mut hs = Vec::new();
            let mut fs = Vec::new();
            for e in &s.endpoints {
                let op = traces.add_operation(Operation {
                    name: e.name.as_str().into(),
                    kind: SpanKind::Server,
                    attributes: vec![
                        (sc::HTTP_REQUEST_METHOD, AttrValue::Str(e.method.as_str().into())),
                        (sc::HTTP_ROUTE, AttrValue::Str(e.route.as_str().into())),
                    ],
                });
                let mut list = vec![StepNode { node: Node::Cpu { median_us: e.cpu_median_us, sigma: e.sigma, leaf: 0 }, probability: 1.0 }];
                for st in &e.steps {
                    list.push(w.flatten(model, si, st, traces));
                }
                let id = w.lists.len() as ListId;
                w.lists.push(list.into());
                hs.push((id, op));
                fs.push(handler_frames(s.runtime, &s.name, &e.method, &e.route).into());
            }
            w.handlers.push(hs.into());
            w.frames.push(fs);
            w.names.push(s.endpoints.iter().map(|e| (Arc::from(e.method.as_str()), Arc::from(e.route.as_str()))).collect());
        }
        w
    }

    fn list(&mut self, model: &Model, si: usize, steps: &[Step], traces: &mut TraceStore) -> ListId {
        let v: Vec<StepNode> = steps.iter().map(|s| self.flatten(model, si, s, traces)).collect();
        self.lists.push(v.into());
        self.lists.len() as ListId - 1
    }

    fn flatten(&mut self, model: &Model, si: usize, st: &Step, traces: &mut TraceStore) -> StepNode {
        let svc = &model.services[si];
        let pool_of = |ds: usize| svc.pools.iter().position(|p| p.0 == ds).map(|i| i as u8);
        let t_us = |t: Option<crate::sim::time::SimDuration>| t.map(|d| d.micros()).unwrap_or(0);
        let node = match &st.kind {
            StepKind::Cpu { median_us, sigma } => Node::Cpu { median_us: *median_us, sigma: *sigma, leaf: 1 },
            StepKind::Call { service, endpoint, timeout, retries } => {
                let target = &model.services[*service];
                let e = &target.endpoints[*endpoint];
                let op = traces.add_operation(Operation {
                    name: e.name.as_str().into(),
                    kind: SpanKind::Client,
                    attributes: vec![
                        (sc::HTTP_REQUEST_METHOD, AttrValue::Str(e.method.as_str().into())),
                        (sc::SERVER_ADDRESS, AttrValue::Str(target.name.as_str().into())),
                        (sc::SERVER_PORT, AttrValue::Int(8080)),
                        ("url.template", AttrValue::Str(e.route.as_str().into())),
                    ],
                });
                Node::Call { service: *service as u16, endpoint: *endpoint as u16, timeout_us: t_us(*timeout), retries: (*retries).min(5) as u8, op }
            }
            StepKind::Db { datastore, op, table, median_us, sigma, error_ratio, timeout } => {
                let ds = &model.datastores[*datastore];
                let opid = traces.add_operation(Operation {
                    name: format!("{op} {table}").into(),
                    kind: SpanKind::Client,
                    attributes: vec![
                        (sc::DB_SYSTEM, AttrValue::Str(ds.system.as_str().into())),
                        (sc::DB_OPERATION_NAME, AttrValue::Str(op.as_str().into())),
                        (sc::DB_COLLECTION_NAME, AttrValue::Str(table.as_str().into())),
                        (sc::DB_QUERY_TEXT, AttrValue::Str(query_text(op, table).into())),
                        (sc::SERVER_ADDRESS, AttrValue::Str(ds.name.as_str().into())),
                    ],
                });
                Node::Db { ds: *datastore as u16, pool: pool_of(*datastore), median_us: *median_us, sigma: *sigma, error_ratio: *error_ratio, timeout_us: t_us(*timeout), op: opid }
            }
            StepKind::Cache { datastore, op, key, median_us, sigma, hit_ratio, on_miss } => {
                let ds = &model.datastores[*datastore];
                let opid = traces.add_operation(Operation {
                    name: format!("{op} {key}").into(),
                    kind: SpanKind::Client,
                    attributes: vec![
                        (sc::DB_SYSTEM, AttrValue::Str(ds.system.as_str().into())),
                        (sc::DB_OPERATION_NAME, AttrValue::Str(op.as_str().into())),
                        (sc::SERVER_ADDRESS, AttrValue::Str(ds.name.as_str().into())),
                    ],
                });
                let miss = if on_miss.is_empty() { None } else { Some(self.list(model, si, on_miss, traces)) };
                Node::Cache { ds: *datastore as u16, pool: pool_of(*datastore), median_us: *median_us, sigma: *sigma, hit_ratio: *hit_ratio, on_miss: miss, op: opid }
            }
            StepKind::External { datastore, path, median_us, sigma, error_ratio, timeout, .. } => {
                let ds = &model.datastores[*datastore];
                let opid = traces.add_operation(Operation {
                    name: format!("POST {path}").into(),
                    kind: SpanKind::Client,
                    attributes: vec![
                        (sc::HTTP_REQUEST_METHOD, AttrValue::Str("POST".into())),
                        (sc::SERVER_ADDRESS, AttrValue::Str(ds.name.as_str().into())),
                        (sc::SERVER_PORT, AttrValue::Int(443)),
                        ("url.template", AttrValue::Str(path.as_str().into())),
                    ],
                });
                Node::External { ds: *datastore as u16, median_us: *median_us, sigma: *sigma, error_ratio: *error_ratio, timeout_us: t_us(*timeout), op: opid }
            }
            StepKind::Parallel(branches) => {
                let ids: Vec<ListId> = branches.iter().map(|b| self.list(model, si, std::slice::from_ref(b), traces)).collect();
                let first = self.branches.len() as u32;
                self.branches.extend_from_slice(&ids);
                Node::Parallel { first, len: ids.len() as u32 }
            }
        };
        StepNode { node, probability: st.probability }
    }
}

fn query_text(op: &str, table: &str) -> String {
    match op {
        "SELECT" => format!("SELECT * FROM {table} WHERE id = $1"),
        "INSERT" => format!("INSERT INTO {table} VALUES ($1, $2, $3)"),
        "UPDATE" => format!("UPDATE {table} SET updated_at = now() WHERE id = $1"),
        other => format!("{other} {table}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn pod_names_look_like_kubernetes_and_are_stable() {
        let a = pod_name("shop", "frontend", 0);
        assert!(a.starts_with("frontend-"));
        assert_eq!(a.len(), "frontend-".len() + 10 + 1 + 5);
        assert_eq!(a, pod_name("shop", "frontend", 0));
        assert_ne!(a, pod_name("shop", "frontend", 1));
    }
}
