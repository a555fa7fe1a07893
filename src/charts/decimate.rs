//! Decimation for line charts: at most two points per pixel column (each
//! column's minimum and maximum, in time order), so a spike narrower than a
//! pixel still shows and a month of one-minute samples draws as fast as an
//! hour. NaN values are gaps: the line breaks there.

/// Splits `(xs[i], ys[i])` into continuous runs of finite points, keeping
/// at most two points per column when `xs` spans `columns` columns over
/// `x_range`. `xs` must be sorted; points outside `x_range` are dropped.
/// With at most `2 × columns` points in range every finite point is kept.
pub fn min_max(xs: &[i64], ys: &[f64], x_range: (i64, i64), columns: usize) -> Vec<Vec<(i64, f64)>> {
    let (x0, x1) = x_range;
    let n = xs.len().min(ys.len());
    let lo = xs[..n].partition_point(|&x| x < x0);
    let hi = xs[..n].partition_point(|&x| x <= x1);
    let columns = columns.max(1);
    let span = (x1 - x0).max(1) as i128;
    let keep_all = hi.saturating_sub(lo) <= 2 * columns;
    let column_of = |x: i64| -> usize {
        if keep_all {
            // Every point is its own column.
            usize::MAX
        } else {
            (((x - x0) as i128 * columns as i128 / span) as usize).min(columns - 1)
        }
    };

    let mut out: Vec<Vec<(i64, f64)>> = Vec::new();
    let mut cur: Vec<(i64, f64)> = Vec::new();
    let mut i = lo;
    while i < hi {
        let c = column_of(xs[i]);
        let mut j = i + 1;
        if c != usize::MAX {
            while j < hi && column_of(xs[j]) == c {
                j += 1;
            }
        }
        // One column: points i..j.
        let mut min: Option<usize> = None;
        let mut max: Option<usize> = None;
        let (mut nan_before, mut nan_after) = (false, false);
        for k in i..j {
            let y = ys[k];
            if y.is_nan() || y.is_infinite() {
                if min.is_none() {
                    nan_before = true;
                } else {
                    nan_after = true;
                }
                continue;
            }
            if min.is_none_or(|m| y < ys[m]) {
                min = Some(k);
            }
            if max.is_none_or(|m| y > ys[m]) {
                max = Some(k);
            }
        }
        if nan_before && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if let (Some(a), Some(b)) = (min, max) {
            let (a, b) = (a.min(b), a.max(b));
            cur.push((xs[a], ys[a]));
            if b != a {
                cur.push((xs[b], ys[b]));
            }
        }
        if nan_after && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        i = j;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_inputs_are_kept_and_split_at_gaps() {
        let xs = [0, 1, 2, 3, 4];
        let ys = [1.0, 2.0, f64::NAN, 4.0, 5.0];
        let segs = min_max(&xs, &ys, (0, 4), 100);
        assert_eq!(segs, vec![vec![(0, 1.0), (1, 2.0)], vec![(3, 4.0), (4, 5.0)]]);
    }

    #[test]
    fn large_inputs_keep_two_points_per_column_and_the_spike() {
        let xs: Vec<i64> = (0..43_200).map(|i| i * 60_000).collect();
        let mut ys: Vec<f64> = (0..43_200).map(|i| (i % 7) as f64).collect();
        ys[20_000] = 1000.0;
        let range = (xs[0], *xs.last().unwrap());
        let segs = min_max(&xs, &ys, range, 700);
        let total: usize = segs.iter().map(Vec::len).sum();
        assert_eq!(segs.len(), 1);
        assert!(total <= 1400, "{total} points for 700 columns");
        assert!(segs[0].iter().any(|&(_, y)| y == 1000.0), "the spike survives");
        assert!(segs[0].windows(2).all(|w| w[0].0 < w[1].0), "time order is kept");
    }

    #[test]
    fn out_of_range_and_empty() {
        assert!(min_max(&[], &[], (0, 10), 10).is_empty());
        assert_eq!(min_max(&[5, 50], &[1.0, 2.0], (0, 10), 10), vec![vec![(5, 1.0)]]);
        assert!(min_max(&[1, 2], &[f64::NAN, f64::NAN], (0, 10), 10).is_empty());
    }
}
