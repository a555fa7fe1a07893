//! The simulator: a discrete-event model of a microservice system. Time is
//! [`time::SimTime`]; events pop from [`queue::EventQueue`]; randomness comes
//! from named [`rng`] streams. [`Simulation`] runs a scenario [`Model`] in
//! chunks (so a browser can show progress) and [`Simulation::finish`] hands
//! back the [`Run`]: telemetry, ground truth and counts.

pub mod aggregate;
pub mod dense;
pub mod engine;
pub mod faults;
pub mod fxhash;
pub mod instruments;
pub mod queue;
pub mod rng;
pub mod time;
pub mod truth;
pub mod world;

pub use truth::GroundTruth;

use crate::scenario::format::Mode;
use crate::scenario::Model;
use crate::store::Telemetry;
use time::{SimDuration, SimTime};

/// Counts a run reports (`obslab run`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Requests that arrived at the edge.
    pub requests: u64,
    /// Requests completed by the end of the window.
    pub completed: u64,
    /// Requests still in flight at the end.
    pub in_flight: u64,
    /// Spans produced (kept + dropped).
    pub spans: u64,
    pub spans_kept: u64,
    pub spans_dropped: u64,
    pub traces_kept: u64,
    pub traces_dropped: u64,
    pub events: u64,
}

/// What a finished run hands back.
pub struct Run {
    pub model: Model,
    pub seed: u64,
    pub telemetry: Telemetry,
    pub truth: GroundTruth,
    pub stats: RunStats,
}

/// A run in progress. Drive it with [`Simulation::advance`] until
/// [`Simulation::is_done`], then [`Simulation::finish`].
pub enum Simulation {
    Requests(Box<engine::Engine>),
    Aggregate(Box<aggregate::Aggregate>),
}

impl Simulation {
    /// Prepares a run of `model` with `seed` over `duration` (default: the scenario's).
    pub fn new(model: &Model, seed: u64, duration: Option<SimDuration>) -> Simulation {
        let mut model = model.clone();
        if let Some(d) = duration {
            model.duration = d;
        }
        match model.mode {
            Mode::Requests => Simulation::Requests(Box::new(engine::Engine::new(model, seed))),
            Mode::Aggregate => Simulation::Aggregate(Box::new(aggregate::Aggregate::new(model, seed))),
        }
    }
    /// Simulates up to `step` more simulated time. Returns true when done.
    pub fn advance(&mut self, step: SimDuration) -> bool {
        match self {
            Simulation::Requests(e) => e.advance(step),
            Simulation::Aggregate(a) => a.advance(step),
        }
    }
    pub fn now(&self) -> SimTime {
        match self {
            Simulation::Requests(e) => e.now(),
            Simulation::Aggregate(a) => a.now(),
        }
    }
    pub fn duration(&self) -> SimDuration {
        match self {
            Simulation::Requests(e) => e.model.duration,
            Simulation::Aggregate(a) => a.model.duration,
        }
    }
    /// Share of the window simulated, 0 to 1.
    pub fn progress(&self) -> f64 {
        (self.now().0 as f64 / self.duration().0.max(1) as f64).clamp(0.0, 1.0)
    }
    pub fn is_done(&self) -> bool {
        self.now().0 >= self.duration().0
    }
    /// Ends the run: flushes pending telemetry and returns it.
    pub fn finish(self) -> Run {
        match self {
            Simulation::Requests(e) => e.finish(),
            Simulation::Aggregate(a) => a.finish(),
        }
    }
}

/// Runs a whole scenario at once.
pub fn run(model: &Model, seed: u64, duration: Option<SimDuration>) -> Run {
    let mut sim = Simulation::new(model, seed, duration);
    while !sim.advance(SimDuration::from_secs(60)) {}
    sim.finish()
}
