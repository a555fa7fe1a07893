//! CPU profiles in Brendan Gregg's folded format, summed over the run:
//! `service;pod;frame;…;leaf count`, one line per distinct stack and pod,
//! sorted by the stack text, so `flamegraph.pl`, speedscope or inferno can
//! draw it with the service and pod as the two bottom frames.

use crate::store::Telemetry;
use std::collections::BTreeMap;

/// All CPU samples as folded lines (`count` is in 10 ms samples).
pub fn profiles(tel: &Telemetry) -> String {
    let mut by_stack: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    for (&(_, res, stack), &n) in tel.profiles.samples() {
        *by_stack.entry((res.0, stack.0)).or_default() += n;
    }
    let mut lines: BTreeMap<String, u64> = BTreeMap::new();
    for ((res, stack), n) in by_stack {
        let (svc, pod) = match tel.resources.get(res as usize) {
            Some(r) => (&*r.service_name, &*r.pod),
            None => ("unknown_service", "unknown_pod"),
        };
        let frames = tel.profiles.stack(crate::store::profiles::StackId(stack));
        let mut key = String::with_capacity(svc.len() + pod.len() + frames.len() + 2);
        for part in [svc, pod] {
            // `;` and spaces are the format's separators; keep them out of names.
            key.extend(part.chars().map(|c| if c == ';' || c.is_whitespace() { '_' } else { c }));
            key.push(';');
        }
        key.push_str(frames);
        *lines.entry(key).or_default() += n;
    }
    let mut out = String::with_capacity(lines.len() * 96);
    for (k, n) in lines {
        out.push_str(&k);
        out.push(' ');
        out.push_str(&n.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ProfileStore;
    use crate::telemetry::resource::{Resource, ResourceId};

    #[test]
    fn sums_buckets_and_sorts_lines() {
        let mut tel = Telemetry::default();
        for (svc, pod) in [("api", "api-0"), ("db", "db-0")] {
            tel.resources.push(Resource {
                service_name: svc.into(),
                service_namespace: "".into(),
                service_version: "".into(),
                instance_id: pod.into(),
                pod: pod.into(),
                node: "".into(),
            });
        }
        let mut p = ProfileStore::new(60_000_000);
        let a = p.intern("main;handle;parse");
        let b = p.intern("main;handle");
        p.add(0, ResourceId(1), a, 3);
        p.add(0, ResourceId(0), a, 2);
        p.add(60_000_000, ResourceId(0), a, 5);
        p.add(60_000_000, ResourceId(0), b, 1);
        tel.profiles = p;
        assert_eq!(profiles(&tel), "api;api-0;main;handle 1\napi;api-0;main;handle;parse 7\ndb;db-0;main;handle;parse 3\n");
        assert_eq!(profiles(&Telemetry::default()), "");
    }
}
