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

use std::cmp::Ordering;

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

    #[test]
    fn strings_move_not_copy() {
        let mut v: Vec<String> = ["d", "b", "a", "c", "b"].iter().map(|s| s.to_string()).collect();
        sort(&mut v);
        assert_eq!(v, ["a", "b", "b", "c", "d"]);
    }
}
