//! What the lab knows about each failure mechanism of the catalogue
//! (SCENARIOS.md, "Intermittent P99"): a learner-facing name, the signals
//! that really show it, and the next action an SRE would take. Questions
//! build their options from here, and the expected option comes from the
//! run's ground truth (which mechanism was drawn), never from the question.

/// The four signals (and infrastructure/profile, which SCENARIOS.md groups).
pub const SIGNALS: [(&str, &str); 4] = [
    ("metrics", "Metrics"),
    ("traces", "Traces"),
    ("logs", "Logs"),
    ("profiles", "Infrastructure metrics or profiles"),
];

/// One mechanism of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mechanism {
    /// `FaultKind::name()`.
    pub id: &'static str,
    pub title: &'static str,
    /// Signal ids (from [`SIGNALS`]) in which the mechanism shows.
    pub signals: &'static [&'static str],
    /// The next action's id and text.
    pub action: (&'static str, &'static str),
}

/// The catalogue, in the order of SCENARIOS.md's table.
pub const MECHANISMS: [Mechanism; 10] = [
    Mechanism {
        id: "pool_exhaustion",
        title: "Database connection-pool exhaustion during bursts",
        signals: &["metrics", "traces", "logs"],
        action: ("fix_pool", "Find the connection leak and size the pool for bursts (pending connections should stay near zero)"),
    },
    Mechanism {
        id: "gc_pauses",
        title: "Stop-the-world garbage-collection pauses",
        signals: &["metrics", "traces", "logs", "profiles"],
        action: ("tune_gc", "Tune the heap and collector (or reduce allocation) on the affected service"),
    },
    Mechanism {
        id: "cpu_throttling",
        title: "Noisy neighbour: CPU throttling on one node",
        signals: &["metrics", "traces", "profiles"],
        action: ("move_pods", "Move the pods off the noisy node and set CPU requests and limits that reflect their use"),
    },
    Mechanism {
        id: "bad_replica",
        title: "One bad replica of a service",
        signals: &["metrics", "traces", "profiles"],
        action: ("replace_replica", "Take the bad replica out of rotation (restart or replace the pod), then find why it degraded"),
    },
    Mechanism {
        id: "timeouts_retries",
        title: "Timeouts and retries to a flaky dependency",
        signals: &["metrics", "traces", "logs"],
        action: ("fix_timeouts", "Shorten the client timeout, add a retry budget with jitter, and raise the dependency's flakiness with its owners"),
    },
    Mechanism {
        id: "thread_starvation",
        title: "Thread-pool starvation from blocking calls",
        signals: &["metrics", "traces", "profiles"],
        action: ("unblock_workers", "Move the blocking call off the request workers (async client or a separate bounded pool)"),
    },
    Mechanism {
        id: "cache_stampede",
        title: "Cache expiry stampede",
        signals: &["metrics", "traces", "profiles"],
        action: ("jitter_ttl", "Add jitter to cache expiry and coalesce refills (request collapsing) so keys do not expire together"),
    },
    Mechanism {
        id: "n_plus_one",
        title: "N+1 queries for one product category",
        signals: &["metrics", "traces"],
        action: ("batch_queries", "Replace the per-item queries with one batched query (a join or IN list) for that endpoint"),
    },
    Mechanism {
        id: "lock_contention",
        title: "Lock contention",
        signals: &["metrics", "traces", "logs", "profiles"],
        action: ("shrink_lock", "Shorten or split the critical section, and move the background job off the request lock"),
    },
    Mechanism {
        id: "packet_loss",
        title: "Packet loss on one node",
        signals: &["metrics", "traces", "profiles"],
        action: ("drain_node", "Cordon and drain the node and open a ticket for its network interface"),
    },
];

pub fn mechanism(id: &str) -> Option<&'static Mechanism> {
    MECHANISMS.iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::FaultKind;

    #[test]
    fn every_catalogue_cause_of_the_simulator_is_described() {
        // The first ten simulator fault kinds are the catalogue; the rest are red herrings.
        for id in &FaultKind::ALL[..10] {
            let m = mechanism(id).unwrap_or_else(|| panic!("{id} has no description"));
            assert!(m.signals.iter().all(|s| SIGNALS.iter().any(|(id, _)| id == s)));
        }
        let mut actions: Vec<_> = MECHANISMS.iter().map(|m| m.action.0).collect();
        actions.sort_unstable();
        actions.dedup();
        assert_eq!(actions.len(), MECHANISMS.len(), "each mechanism has its own next action");
    }
}
