//! (being written: see the grading module docs)
pub fn grade_rules(answer: &str, run: &crate::sim::Run, max: f64) -> Result<super::Grade, super::AnswerError> { todo!() }
pub fn reference_rules_text(_run: &crate::sim::Run) -> String { todo!() }
