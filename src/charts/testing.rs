//! A plotters backend that records what is drawn, for chart tests.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
use std::fmt;

/// What a chart drew: paths (colour, points, largest x), texts, circles.
pub struct Recorder {
    size: (u32, u32),
    pub paths: Vec<((u8, u8, u8), usize, i32)>,
    pub texts: Vec<String>,
    pub circles: usize,
}

#[derive(Debug)]
pub struct NoError;
impl fmt::Display for NoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("none")
    }
}
impl std::error::Error for NoError {}

impl Recorder {
    pub fn new(size: (u32, u32)) -> Recorder {
        Recorder { size, paths: vec![], texts: vec![], circles: 0 }
    }
    /// A drawing area over this recorder; drop it before reading.
    pub fn area(&mut self) -> DrawingArea<RecorderRef<'_>, Shift> {
        DrawingArea::from(RecorderRef(self))
    }
    /// Points drawn in colour `c`.
    pub fn points(&self, c: RGBColor) -> usize {
        self.paths.iter().filter(|p| p.0 == (c.0, c.1, c.2)).map(|p| p.1).sum()
    }
}

/// Lets a test keep the recorder after the drawing area is dropped.
pub struct RecorderRef<'a>(&'a mut Recorder);

impl DrawingBackend for RecorderRef<'_> {
    type ErrorType = NoError;
    fn get_size(&self) -> (u32, u32) {
        self.0.size
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<NoError>> {
        Ok(())
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<NoError>> {
        Ok(())
    }
    fn draw_pixel(&mut self, _: BackendCoord, _: BackendColor) -> Result<(), DrawingErrorKind<NoError>> {
        Ok(())
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, path: I, style: &S) -> Result<(), DrawingErrorKind<NoError>> {
        let pts: Vec<BackendCoord> = path.into_iter().collect();
        let max_x = pts.iter().map(|p| p.0).max().unwrap_or(0);
        self.0.paths.push((style.color().rgb, pts.len(), max_x));
        Ok(())
    }
    fn draw_circle<S: BackendStyle>(&mut self, _: BackendCoord, _: u32, _: &S, _: bool) -> Result<(), DrawingErrorKind<NoError>> {
        self.0.circles += 1;
        Ok(())
    }
    fn draw_text<T: BackendTextStyle>(&mut self, text: &str, _: &T, _: BackendCoord) -> Result<(), DrawingErrorKind<NoError>> {
        self.0.texts.push(text.to_string());
        Ok(())
    }
}
