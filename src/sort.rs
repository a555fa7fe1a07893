//! Stable sorting through one shared implementation.
//!
//! `slice::sort_by` is generic over the element type *and* the comparator,
//! so every call site gets its own copy of the standard library's sort
//! (about 4 KB of wasm each; 31 of them were 130 KB before wasm-opt). These
//! functions sort a permutation of indices with a single instantiation of
//! the standard sort (the comparator behind `&mut dyn`), then move the
//! elements into place with swaps; only that small step is generic.
//!
//! The result is the same as `slice::sort_by`'s whenever the comparator is a
//! total order (`Ord`, `f64::total_cmp`, NaN handled explicitly ...): a
//! stable sort's output is then unique. Comparators that are not total (a
//! bare `partial_cmp` that may see NaN, a "natural" order that can call two
//! different strings neither less nor greater) keep `slice::sort_by`, whose
//! exact output for them depends on the algorithm.
//!
//! Collecting an iterator into a `BTreeMap` or `BTreeSet` sorts too: their
//! `FromIterator` puts the items in a `Vec`, stable-sorts it and bulk-builds
//! the tree, one more copy of the sort per key type. [`btree_map`],
//! [`btree_set`] and [`sorted_unique`] build the same collections without it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// `v.sort_by(cmp)` for a total-order `cmp`.
pub fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut perm: Vec<usize> = (0..v.len()).collect();
    {
        let r: &[T] = v;
        sort_indices(&mut perm, &mut |a, b| cmp(&r[a], &r[b]));
    }
    permute(v, &mut perm);
}

/// `v.sort_by_key(key)`.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// `v.sort()`.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// `iter.collect::<BTreeMap<_, _>>()`: the pairs are inserted one by one,
/// so a later value for a key replaces an earlier one, as with `collect`.
pub fn btree_map<K: Ord, V>(iter: impl IntoIterator<Item = (K, V)>) -> BTreeMap<K, V> {
    let mut m = BTreeMap::new();
    for (k, v) in iter {
        m.insert(k, v);
    }
    m
}

/// `iter.collect::<BTreeSet<_>>()`, inserting one by one.
pub fn btree_set<T: Ord>(iter: impl IntoIterator<Item = T>) -> BTreeSet<T> {
    let mut s = BTreeSet::new();
    for x in iter {
        s.insert(x);
    }
    s
}

/// The distinct items in ascending order (what
/// `iter.collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>()` gives).
pub fn sorted_unique<T: Ord>(iter: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = iter.into_iter().collect();
    sort(&mut v);
    v.dedup();
    v
}

#[inline(never)]
fn sort_indices(perm: &mut [usize], cmp: &mut dyn FnMut(usize, usize) -> Ordering) {
    perm.sort_by(|&a, &b| cmp(a, b));
}

/// Reorders `v` so that `v[i]` becomes the old `v[perm[i]]`, one cycle of
/// the permutation at a time; `perm` is used up (visited entries are set to
/// `usize::MAX`).
fn permute<T>(v: &mut [T], perm: &mut [usize]) {
    for start in 0..v.len() {
        let mut cur = start;
        while perm[cur] != usize::MAX {
            let next = perm[cur];
            perm[cur] = usize::MAX;
            if next == start {
                break;
            }
            v.swap(cur, next);
            cur = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn same_as_std_sort_by(v in proptest::collection::vec((0u8..6, any::<u16>()), 0..200)) {
            // Sorting on the first field only: equal keys must keep their order.
            let mut a = v.clone();
            let mut b = v.clone();
            a.sort_by(|x, y| x.0.cmp(&y.0));
            sort_by(&mut b, |x, y| x.0.cmp(&y.0));
            prop_assert_eq!(&a, &b);
            let mut c = v.clone();
            let mut d = v;
            c.sort_by_key(|x| std::cmp::Reverse(x.0));
            sort_by_key(&mut d, |x| std::cmp::Reverse(x.0));
            prop_assert_eq!(c, d);
        }

        #[test]
        fn same_as_std_sort(v in proptest::collection::vec(any::<i32>(), 0..300)) {
            let mut a = v.clone();
            let mut b = v;
            a.sort();
            sort(&mut b);
            prop_assert_eq!(a, b);
        }

        #[test]
        fn floats_with_total_cmp(v in proptest::collection::vec(any::<f64>(), 0..100)) {
            let mut a = v.clone();
            let mut b = v;
            a.sort_by(f64::total_cmp);
            sort_by(&mut b, f64::total_cmp);
            prop_assert_eq!(a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), b.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        }
    }

    proptest! {
        #[test]
        fn collections_same_as_collect(v in proptest::collection::vec((0u8..20, any::<u16>()), 0..100)) {
            prop_assert_eq!(btree_map(v.iter().copied()), v.iter().copied().collect::<BTreeMap<_, _>>());
            prop_assert_eq!(btree_set(v.iter().copied()), v.iter().copied().collect::<BTreeSet<_>>());
            let keys = || v.iter().map(|p| p.0);
            prop_assert_eq!(sorted_unique(keys()), keys().collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn strings_move_not_copy() {
        let mut v: Vec<String> = ["d", "b", "a", "c", "b"].iter().map(|s| s.to_string()).collect();
        sort(&mut v);
        assert_eq!(v, ["a", "b", "b", "c", "d"]);
    }
}
