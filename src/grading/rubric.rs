//! (being written: see the grading module docs)
#[derive(Clone, Debug, PartialEq)]
pub struct KeyPoint { pub id: String, pub text: String, pub phrasings: Vec<String> }
pub struct RubricScore { pub matched: Vec<bool>, pub score: f64 }
pub fn score(answer: &str, points: &[KeyPoint]) -> RubricScore { todo!() }
