//! (being written: see the grading module docs)
