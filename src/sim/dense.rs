//! [`Dense`]: a `Vec` whose indexing is always inlined. The browser build
//! is optimized for size (opt-level `z`), where LLVM leaves `Vec`'s
//! `Index::index` as an out-of-line call at every `v[i]`; the simulator's
//! hot loops index its slabs (fibers, tasks, calls, traces, the event
//! heap, instruments, series) millions of times a run. Indexing here goes
//! through the slice, whose `[i]` is built into the language (a bounds
//! check and a load), so it costs no call at any opt-level. Everything else
//! is the `Vec` itself (`Deref`).

use std::ops::{Deref, DerefMut, Index, IndexMut};

#[derive(Clone, Debug, PartialEq)]
pub struct Dense<T>(Vec<T>);

impl<T> Dense<T> {
    pub const fn new() -> Self {
        Dense(Vec::new())
    }
    pub fn with_capacity(n: usize) -> Self {
        Dense(Vec::with_capacity(n))
    }
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T> Default for Dense<T> {
    fn default() -> Self {
        Dense(Vec::new())
    }
}

impl<T> From<Vec<T>> for Dense<T> {
    fn from(v: Vec<T>) -> Self {
        Dense(v)
    }
}

impl<T> FromIterator<T> for Dense<T> {
    fn from_iter<I: IntoIterator<Item = T>>(it: I) -> Self {
        Dense(it.into_iter().collect())
    }
}

impl<T> Deref for Dense<T> {
    type Target = Vec<T>;
    #[inline(always)]
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T> DerefMut for Dense<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}

impl<T> Index<usize> for Dense<T> {
    type Output = T;
    #[inline(always)]
    fn index(&self, i: usize) -> &T {
        let s: &[T] = self.0.as_slice();
        &s[i]
    }
}

impl<T> IndexMut<usize> for Dense<T> {
    #[inline(always)]
    fn index_mut(&mut self, i: usize) -> &mut T {
        let s: &mut [T] = self.0.as_mut_slice();
        &mut s[i]
    }
}

impl<'a, T> IntoIterator for &'a Dense<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut Dense<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_and_grows_like_a_vec() {
        let mut d: Dense<u32> = Dense::new();
        d.push(3);
        d.push(5);
        d[1] += 1;
        assert_eq!((d[0], d[1], d.len()), (3, 6, 2));
        assert_eq!(d.iter().sum::<u32>(), 9);
        assert!(std::panic::catch_unwind(|| Dense::from(vec![1u8])[1]).is_err());
    }
}
