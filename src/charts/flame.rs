//! Flame graphs: the call tree of CPU profiles given as folded stacks
//! (`"root;caller;callee"` with a sample count, Brendan Gregg's format),
//! laid out as frames with a depth, an x offset and a width as fractions
//! of the frame that spans the whole width. Children are sorted by name,
//! as in Gregg's flame graphs, so the x axis is not time and equal stacks
//! from different windows line up. Also: zooming into a frame (its
//! ancestors span the whole width above it), searching frame names, a
//! table of functions by self time, keyboard navigation between frames,
//! and the diff of two profiles (Pyroscope's "comparison" view), where a
//! frame's width is its mean share of the two and its change says whether
//! it grew or shrank.
//!
//! Pure and iterative: a stack thousands of frames deep cannot overflow
//! the call stack, and nothing here knows about the browser.

use std::collections::HashMap;

/// The name of the synthetic frame under every stack.
pub const ROOT: &str = "all";

/// One frame of the layout.
#[derive(Clone, Debug, PartialEq)]
pub struct FlameNode {
    pub name: String,
    /// 0 for the root; a stack's first frame is at depth 1.
    pub depth: u32,
    /// Offset from the left edge, a fraction of the full width in `[0, 1]`.
    pub x: f64,
    /// A fraction of the full width in `[0, 1]`; children never exceed their parent.
    pub width: f64,
    /// Samples whose stack ends at this frame. In a diff, base + comparison.
    pub self_samples: u64,
    /// Samples whose stack passes through this frame. In a diff, base + comparison.
    pub total_samples: u64,
    pub parent: Option<usize>,
    /// One past this frame's subtree: its descendants are the nodes
    /// `index + 1 .. end` (the nodes are in pre-order).
    pub end: usize,
    /// Present in the graph of a diff.
    pub diff: Option<Diff>,
}

/// A frame in two profiles: samples in each and its share of each
/// profile's samples (0 when that profile is empty).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Diff {
    pub base_samples: u64,
    pub comparison_samples: u64,
    pub base_self: u64,
    pub comparison_self: u64,
    pub base_share: f64,
    pub comparison_share: f64,
}

/// How a frame's share changed from the base to the comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    /// Absent from the base, present in the comparison.
    New,
    /// Present in the base, absent from the comparison.
    Gone,
    /// Relative change of the share: `0.5` is +50 %, `-0.25` is −25 %.
    Relative(f64),
}

/// A bucket of [`Change`] for colouring; never the only signal (see [`Diff::label`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiffClass {
    New,
    GrewMuch,
    Grew,
    Same,
    Shrank,
    ShrankMuch,
    Gone,
}

impl DiffClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffClass::New => "new",
            DiffClass::GrewMuch => "grew-much",
            DiffClass::Grew => "grew",
            DiffClass::Same => "same",
            DiffClass::Shrank => "shrank",
            DiffClass::ShrankMuch => "shrank-much",
            DiffClass::Gone => "gone",
        }
    }
}

/// Below this relative change a frame counts as unchanged.
pub const SAME_WITHIN: f64 = 0.10;
/// From this relative change on a frame grew or shrank "much".
pub const MUCH: f64 = 0.50;

impl Diff {
    pub fn change(&self) -> Change {
        match (self.base_share > 0.0, self.comparison_share > 0.0) {
            (false, true) => Change::New,
            (true, false) => Change::Gone,
            (false, false) => Change::Relative(0.0),
            (true, true) => Change::Relative(self.comparison_share / self.base_share - 1.0),
        }
    }
    pub fn class(&self) -> DiffClass {
        match self.change() {
            Change::New => DiffClass::New,
            Change::Gone => DiffClass::Gone,
            Change::Relative(r) if r >= MUCH => DiffClass::GrewMuch,
            Change::Relative(r) if r >= SAME_WITHIN => DiffClass::Grew,
            Change::Relative(r) if r <= -MUCH => DiffClass::ShrankMuch,
            Change::Relative(r) if r <= -SAME_WITHIN => DiffClass::Shrank,
            Change::Relative(_) => DiffClass::Same,
        }
    }
    /// `+35%`, `−20%`, `±0%`, `new`, `gone`.
    pub fn label(&self) -> String {
        match self.change() {
            Change::New => "new".to_string(),
            Change::Gone => "gone".to_string(),
            Change::Relative(r) => signed_percent(r),
        }
    }
}

/// `+35%`, `−20%` (a real minus sign), `±0%`; one decimal under 10 %.
pub fn signed_percent(r: f64) -> String {
    let p = r * 100.0;
    let digits = if p.abs() < 9.95 { 1 } else { 0 };
    let text = format!("{:.*}", digits, p.abs());
    if text.trim_start_matches(['0', '.']).is_empty() {
        "±0%".to_string()
    } else if p > 0.0 {
        format!("+{text}%")
    } else {
        format!("−{text}%")
    }
}

/// A laid-out flame graph. `nodes[0]` is the root ([`ROOT`]) and the
/// nodes are in pre-order (children by name), so a subtree is a range.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlameGraph {
    pub nodes: Vec<FlameNode>,
    /// All samples of the profile (of both profiles in a diff), zoomed or not.
    pub total: u64,
    /// The frame spanning the full width: 0, or after [`FlameGraph::zoom`]
    /// the zoomed frame, with its ancestors (also full width) before it.
    pub focus: usize,
    /// The deepest depth present.
    pub max_depth: u32,
}

/// Frames whose name contains a pattern.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchResult {
    /// Per node: does its name match? The root never does.
    pub matched: Vec<bool>,
    /// Matching frames (nodes, not distinct names).
    pub frames: usize,
    /// Samples under a matching frame within the focus, each counted once
    /// (a match inside a match adds nothing).
    pub samples: u64,
    /// Their share of the width shown, in `[0, 1]`.
    pub share: f64,
}

/// A function (a frame name) summed over every stack it appears in.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionStat {
    pub name: String,
    pub self_samples: u64,
    /// Samples with this function anywhere on the stack (recursion counted once).
    pub total_samples: u64,
    /// In a diff: (base, comparison) self samples.
    pub diff_self: Option<(u64, u64)>,
}

struct Trie<'a> {
    names: Vec<&'a str>,
    children: Vec<Vec<usize>>,
    /// Per profile (base, comparison): self and total samples.
    self_: Vec<[u64; 2]>,
    total: Vec<[u64; 2]>,
    index: HashMap<(usize, &'a str), usize>,
}

impl<'a> Trie<'a> {
    fn new() -> Self {
        Trie { names: vec![ROOT], children: vec![Vec::new()], self_: vec![[0; 2]], total: vec![[0; 2]], index: HashMap::new() }
    }
    /// Adds `n` samples of `stack` to profile `k`. Empty frames (`a;;b`,
    /// a trailing `;`) are skipped; an empty stack counts on the root.
    fn add(&mut self, k: usize, stack: &'a str, n: u64) {
        if n == 0 {
            return;
        }
        let mut at = 0;
        self.total[0][k] += n;
        for frame in stack.split(';').filter(|f| !f.is_empty()) {
            at = match self.index.get(&(at, frame)) {
                Some(&c) => c,
                None => {
                    let c = self.names.len();
                    self.names.push(frame);
                    self.children.push(Vec::new());
                    self.self_.push([0; 2]);
                    self.total.push([0; 2]);
                    self.children[at].push(c);
                    self.index.insert((at, frame), c);
                    c
                }
            };
            self.total[at][k] += n;
        }
        self.self_[at][k] += n;
    }

    /// Lays the trie out with `weight` per node (additive: a node weighs at
    /// least the sum of its children).
    fn layout(mut self, weight: impl Fn([u64; 2]) -> f64, diff: Option<[u64; 2]>) -> FlameGraph {
        for c in self.children.iter_mut() {
            crate::sort::sort_by(c, |&a, &b| self.names[a].cmp(self.names[b]));
        }
        let root_w = weight(self.total[0]);
        let scale = if root_w > 0.0 { 1.0 / root_w } else { 0.0 };
        let mut nodes: Vec<FlameNode> = Vec::with_capacity(self.names.len());
        let mut max_depth = 0;
        // (trie node, parent in the output, depth, x in weight units)
        let mut work: Vec<(usize, Option<usize>, u32, f64)> = vec![(0, None, 0, 0.0)];
        while let Some((t, parent, depth, x)) = work.pop() {
            let i = nodes.len();
            let [s, c] = self.total[t];
            let [ss, cs] = self.self_[t];
            let w = weight(self.total[t]);
            max_depth = max_depth.max(depth);
            nodes.push(FlameNode {
                name: self.names[t].to_string(),
                depth,
                x: (x * scale).clamp(0.0, 1.0),
                width: (w * scale).clamp(0.0, 1.0),
                self_samples: ss + cs,
                total_samples: s + c,
                parent,
                end: i + 1,
                diff: diff.map(|[bt, ct]| Diff {
                    base_samples: s,
                    comparison_samples: c,
                    base_self: ss,
                    comparison_self: cs,
                    base_share: if bt > 0 { s as f64 / bt as f64 } else { 0.0 },
                    comparison_share: if ct > 0 { c as f64 / ct as f64 } else { 0.0 },
                }),
            });
            // Pushed in reverse so the first by name is laid out first.
            let mut offsets = Vec::with_capacity(self.children[t].len());
            let mut cx = x;
            for &ch in &self.children[t] {
                offsets.push((ch, cx));
                cx += weight(self.total[ch]);
            }
            for (ch, cx) in offsets.into_iter().rev() {
                work.push((ch, Some(i), depth + 1, cx));
            }
        }
        for i in (1..nodes.len()).rev() {
            if let Some(p) = nodes[i].parent {
                nodes[p].end = nodes[p].end.max(nodes[i].end);
            }
        }
        let total = nodes[0].total_samples;
        FlameGraph { nodes, total, focus: 0, max_depth }
    }
}

impl FlameGraph {
    /// The flame graph of one profile. Stacks with a count of 0 are ignored;
    /// a stack listed twice adds up.
    pub fn from_folded<'a>(stacks: impl IntoIterator<Item = (&'a str, u64)>) -> FlameGraph {
        let mut t = Trie::new();
        for (s, n) in stacks {
            t.add(1, s, n);
        }
        t.layout(|[_, c]| c as f64, None)
    }

    /// The diff of two profiles: the union of their frames, each as wide as
    /// its mean share of the two (so neither window's length dominates, and
    /// a frame that vanished stays visible), with a [`Diff`] per frame. An
    /// empty profile has shares of 0 and the other one sets the widths.
    pub fn diff<'a>(base: impl IntoIterator<Item = (&'a str, u64)>, comparison: impl IntoIterator<Item = (&'a str, u64)>) -> FlameGraph {
        let mut t = Trie::new();
        for (s, n) in base {
            t.add(0, s, n);
        }
        for (s, n) in comparison {
            t.add(1, s, n);
        }
        let totals = t.total[0];
        let [bt, ct] = totals.map(|v| if v > 0 { 1.0 / v as f64 } else { 0.0 });
        t.layout(move |[b, c]| b as f64 * bt + c as f64 * ct, Some(totals))
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The frame `i` at full width with its ancestors (full width) above it
    /// and only its descendants below. `i` out of range gives a clone.
    /// Percentages against [`FlameGraph::total`] keep meaning "of the whole profile".
    pub fn zoom(&self, i: usize) -> FlameGraph {
        let Some(n) = self.nodes.get(i) else { return self.clone() };
        let mut ancestors = Vec::new();
        let mut p = n.parent;
        while let Some(a) = p {
            ancestors.push(a);
            p = self.nodes[a].parent;
        }
        ancestors.reverse();
        let a = ancestors.len();
        let len = a + (n.end - i);
        let mut nodes = Vec::with_capacity(len);
        for (k, &anc) in ancestors.iter().enumerate() {
            nodes.push(FlameNode { x: 0.0, width: 1.0, parent: k.checked_sub(1), end: len, ..self.nodes[anc].clone() });
        }
        let (x0, w0) = (n.x, n.width);
        let scale = if w0 > 0.0 { 1.0 / w0 } else { 0.0 };
        for (j, m) in self.nodes[i..n.end].iter().enumerate() {
            let parent = if j == 0 { a.checked_sub(1) } else { m.parent.map(|p| p - i + a) };
            // The focus spans the width exactly, whatever the rounding.
            let (x, width) = if j == 0 { (0.0, 1.0) } else { (((m.x - x0) * scale).clamp(0.0, 1.0), (m.width * scale).clamp(0.0, 1.0)) };
            nodes.push(FlameNode {
                x,
                width,
                parent,
                end: m.end - i + a,
                ..m.clone()
            });
        }
        let max_depth = nodes.iter().map(|n| n.depth).max().unwrap_or(0);
        FlameGraph { nodes, total: self.total, focus: a, max_depth }
    }

    /// The frame names from the first frame under the root down to `i`
    /// (empty for the root): a zoom that survives a change of window.
    pub fn path(&self, i: usize) -> Vec<&str> {
        let mut out = Vec::new();
        let mut at = Some(i).filter(|&i| i < self.nodes.len());
        while let Some(k) = at {
            if self.nodes[k].parent.is_none() {
                break;
            }
            out.push(self.nodes[k].name.as_str());
            at = self.nodes[k].parent;
        }
        out.reverse();
        out
    }

    /// The node at `path` (see [`FlameGraph::path`]), if present.
    pub fn find<S: AsRef<str>>(&self, path: &[S]) -> Option<usize> {
        let mut at = 0;
        if self.nodes.is_empty() {
            return None;
        }
        for name in path {
            at = self.children(at).find(|&c| self.nodes[c].name == name.as_ref())?;
        }
        Some(at)
    }

    /// Children of `i`, by name.
    pub fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let end = self.nodes.get(i).map_or(0, |n| n.end);
        let mut next = i + 1;
        std::iter::from_fn(move || {
            (next < end).then(|| {
                let c = next;
                next = self.nodes[c].end;
                c
            })
        })
    }

    pub fn parent(&self, i: usize) -> Option<usize> {
        self.nodes.get(i)?.parent
    }
    pub fn first_child(&self, i: usize) -> Option<usize> {
        let n = self.nodes.get(i)?;
        (n.end > i + 1).then_some(i + 1)
    }
    pub fn next_sibling(&self, i: usize) -> Option<usize> {
        let n = self.nodes.get(i)?;
        let p = n.parent?;
        (n.end < self.nodes[p].end).then_some(n.end)
    }
    pub fn prev_sibling(&self, i: usize) -> Option<usize> {
        let p = self.nodes.get(i)?.parent?;
        self.children(p).take_while(|&c| c != i).last()
    }

    /// Nodes at least `min_width` wide (a fraction of the full width), in
    /// pre-order; a narrow frame's subtree is skipped with it.
    pub fn visible(&self, min_width: f64) -> Vec<usize> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.nodes.len() {
            if self.nodes[i].width >= min_width && self.nodes[i].width > 0.0 {
                out.push(i);
                i += 1;
            } else {
                i = self.nodes[i].end;
            }
        }
        out
    }

    /// Frames whose name contains `pattern`, ignoring case (plain text, not
    /// a regular expression). An empty or blank pattern matches nothing.
    pub fn search(&self, pattern: &str) -> SearchResult {
        let needle = pattern.trim().to_lowercase();
        let mut r = SearchResult { matched: vec![false; self.nodes.len()], ..Default::default() };
        if needle.is_empty() || self.nodes.is_empty() {
            return r;
        }
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            if n.name.to_lowercase().contains(&needle) {
                r.matched[i] = true;
                r.frames += 1;
            }
        }
        let focus = self.focus.min(self.nodes.len() - 1);
        if r.matched[..focus].iter().any(|&m| m) {
            r.samples = self.nodes[focus].total_samples;
            r.share = 1.0;
            return r;
        }
        let mut i = focus;
        while i < self.nodes.len() {
            if r.matched[i] {
                r.samples += self.nodes[i].total_samples;
                r.share += self.nodes[i].width;
                i = self.nodes[i].end;
            } else {
                i += 1;
            }
        }
        r.share = r.share.clamp(0.0, 1.0);
        r
    }

    /// Functions in the focus's subtree by self samples (most first, then
    /// by name); the root is left out.
    pub fn functions(&self) -> Vec<FunctionStat> {
        let mut by_name: HashMap<&str, FunctionStat> = HashMap::new();
        // Names on the stack from the focus down to the current node, to
        // count a recursive function's total once.
        let mut open: Vec<usize> = Vec::new();
        let mut on_stack: HashMap<&str, u32> = HashMap::new();
        let start = self.focus.min(self.nodes.len());
        for i in start..self.nodes.len() {
            while let Some(&o) = open.last() {
                if self.nodes[o].end > i {
                    break;
                }
                open.pop();
                if let Some(c) = on_stack.get_mut(self.nodes[o].name.as_str()) {
                    *c -= 1;
                }
            }
            let n = &self.nodes[i];
            if n.parent.is_some() {
                let name = n.name.as_str();
                let outer = on_stack.get(name).copied().unwrap_or(0) == 0;
                let f = by_name.entry(name).or_insert_with(|| FunctionStat {
                    name: name.to_string(),
                    self_samples: 0,
                    total_samples: 0,
                    diff_self: n.diff.map(|_| (0, 0)),
                });
                f.self_samples += n.self_samples;
                if outer {
                    f.total_samples += n.total_samples;
                }
                if let (Some(d), Some((b, c))) = (n.diff, f.diff_self.as_mut()) {
                    *b += d.base_self;
                    *c += d.comparison_self;
                }
                *on_stack.entry(name).or_default() += 1;
            }
            open.push(i);
        }
        let mut out: Vec<FunctionStat> = by_name.into_values().collect();
        crate::sort::sort_by(&mut out, |a, b| b.self_samples.cmp(&a.self_samples).then_with(|| a.name.cmp(&b.name)));
        out
    }
}

/// A colour index in `0..8` for a frame, by its package (the name up to
/// its last `.`), so a library's frames share a colour.
pub fn palette_index(name: &str) -> usize {
    let pkg = name.rsplit_once('.').map_or(name, |(p, _)| p);
    // FNV-1a: stable across runs and targets.
    let mut h: u32 = 0x811c_9dc5;
    for b in pkg.bytes() {
        h = (h ^ b as u32).wrapping_mul(0x0100_0193);
    }
    (h % 8) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(lines: &[(&'static str, u64)]) -> FlameGraph {
        FlameGraph::from_folded(lines.iter().copied())
    }
    fn names(g: &FlameGraph) -> Vec<&str> {
        g.nodes.iter().map(|n| n.name.as_str()).collect()
    }
    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn empty_input_is_a_bare_root() {
        let g = graph(&[]);
        assert_eq!(names(&g), vec![ROOT]);
        assert!(g.is_empty());
        assert_eq!(g.nodes[0].width, 0.0);
        assert!(g.visible(0.0).is_empty());
        assert_eq!(g.search("x").samples, 0);
        assert!(g.functions().is_empty());
        assert_eq!(g.find(&["a"]), None);
        assert_eq!(g.zoom(5), g);
        let d = FlameGraph::diff([], []);
        assert_eq!(d.nodes.len(), 1);
        assert_eq!(d.nodes[0].diff.unwrap().change(), Change::Relative(0.0));
    }

    #[test]
    fn a_single_frame() {
        let g = graph(&[("main", 7)]);
        assert_eq!(names(&g), vec![ROOT, "main"]);
        let m = &g.nodes[1];
        assert_eq!((m.depth, m.x, m.width, m.self_samples, m.total_samples, m.parent, m.end), (1, 0.0, 1.0, 7, 7, Some(0), 2));
        assert_eq!(g.total, 7);
        assert_eq!(g.max_depth, 1);
        assert_eq!(g.path(1), vec!["main"]);
        assert_eq!(g.find(&["main"]), Some(1));
    }

    #[test]
    fn children_by_name_with_offsets_widths_and_self() {
        // Given out of order, with a duplicate line and a zero count.
        let g = graph(&[("main;b;x", 2), ("main;a", 3), ("main", 1), ("main;b", 4), ("main;a", 1), ("gc", 0)]);
        assert_eq!(names(&g), vec![ROOT, "main", "a", "b", "x"]);
        let t = g.total as f64;
        assert_eq!(g.total, 11);
        let [_, main, a, b, x] = &g.nodes[..] else { panic!() };
        assert_eq!((main.self_samples, main.total_samples), (1, 11));
        assert_eq!((a.self_samples, a.total_samples, a.x, a.width), (4, 4, 0.0, 4.0 / t));
        assert!(close(b.x, 4.0 / t) && close(b.width, 6.0 / t));
        assert!(close(x.x, b.x) && close(x.width, 2.0 / t) && x.depth == 3);
        assert_eq!(g.nodes[1].end, 5);
        assert_eq!(g.children(1).collect::<Vec<_>>(), vec![2, 3]);
        // Children never spill out of their parent.
        for (i, n) in g.nodes.iter().enumerate() {
            for c in g.children(i) {
                let k = &g.nodes[c];
                assert!(k.x >= n.x - 1e-12 && k.x + k.width <= n.x + n.width + 1e-12);
            }
            let sum: u64 = g.children(i).map(|c| g.nodes[c].total_samples).sum();
            assert_eq!(n.self_samples + sum, n.total_samples);
        }
    }

    #[test]
    fn deep_stacks_do_not_overflow() {
        let deep: String = (0..20_000).map(|i| format!("f{}", i % 7)).collect::<Vec<_>>().join(";");
        let g = FlameGraph::from_folded([(deep.as_str(), 3), ("f0", 1)]);
        assert_eq!(g.nodes.len(), 20_001);
        assert_eq!(g.max_depth, 20_000);
        assert_eq!(g.nodes.last().unwrap().self_samples, 3);
        let leaf = g.nodes.len() - 1;
        assert_eq!(g.path(leaf).len(), 20_000);
        assert_eq!(g.find(&g.path(leaf)[..]), Some(leaf));
        let z = g.zoom(10_000);
        assert_eq!(z.focus, 10_000);
        assert_eq!(z.nodes[z.focus].width, 1.0);
        // Recursion: f0 appears ~2857 times on one stack but its total counts once.
        let f0 = g.functions().into_iter().find(|f| f.name == "f0").unwrap();
        assert_eq!(f0.total_samples, 4);
        assert_eq!(g.search("F3").samples, 3);
    }

    #[test]
    fn odd_frame_names_are_kept_verbatim() {
        // `;` separates frames, so it is the one character a name cannot hold.
        let odd = "<script>alert(1)</script>;Σ λ→x \"q\" 100%;;java.util.HashMap$Node[].<init> &amp";
        let g = FlameGraph::from_folded([(odd, 2), (";", 1), ("", 1)]);
        assert_eq!(names(&g), vec![ROOT, "<script>alert(1)</script>", "Σ λ→x \"q\" 100%", "java.util.HashMap$Node[].<init> &amp"]);
        assert_eq!(g.nodes[0].self_samples, 2, "empty stacks count on the root");
        assert_eq!(g.search("λ→X").frames, 1);
        assert_eq!(g.search("$node[]").frames, 1);
        assert_eq!(g.find(&g.path(3)[..]), Some(3));
        assert!(palette_index(odd) < 8);
    }

    #[test]
    fn zoom_rescales_the_subtree_and_keeps_ancestors() {
        let g = graph(&[("main;a;p", 2), ("main;a;q", 2), ("main;b", 4), ("gc", 4)]);
        let a = g.find(&["main", "a"]).unwrap();
        let z = g.zoom(a);
        assert_eq!(names(&z), vec![ROOT, "main", "a", "p", "q"]);
        assert_eq!(z.focus, 2);
        assert!(z.nodes[..3].iter().all(|n| n.x == 0.0 && n.width == 1.0));
        assert!(close(z.nodes[3].width, 0.5) && close(z.nodes[4].x, 0.5));
        assert_eq!(z.total, 12, "percentages stay of the whole profile");
        assert_eq!(z.nodes[3].parent, Some(2));
        assert_eq!(z.nodes[1].end, 5);
        assert_eq!(z.path(4), vec!["main", "a", "q"]);
        assert_eq!(z.find(&["main", "b"]), None, "siblings are gone");
        // Zooming a zoom from its own indexes agrees with zooming the original.
        assert_eq!(z.zoom(z.find(&["main", "a", "q"]).unwrap()), g.zoom(g.find(&["main", "a", "q"]).unwrap()));
        // Search counts only what is shown.
        let s = z.search("q");
        assert_eq!((s.samples, s.frames), (2, 1));
        assert!(close(s.share, 0.5));
        assert_eq!(z.search("main").share, 1.0, "a matching ancestor covers everything shown");
        let f = z.functions();
        assert_eq!(f.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), vec!["p", "q", "a"]);
    }

    #[test]
    fn search_counts_nested_matches_once() {
        let g = graph(&[("main;json.Marshal;json.encode", 3), ("main;json.Marshal", 1), ("main;other", 4), ("gc", 2)]);
        let s = g.search("JSON");
        assert_eq!(s.frames, 2);
        assert_eq!(s.samples, 4);
        assert!(close(s.share, 0.4));
        assert_eq!(s.matched.iter().filter(|&&m| m).count(), 2);
        assert!(!s.matched[0]);
        assert_eq!(g.search("  ").frames, 0);
        assert_eq!(g.search("all").frames, 0, "the root is not a frame of the program");
    }

    #[test]
    fn functions_sum_self_time_across_stacks() {
        let g = graph(&[("a;log", 2), ("b;log", 3), ("b", 1), ("c", 4)]);
        let f = g.functions();
        let row = |n: &str| f.iter().find(|x| x.name == n).unwrap().clone();
        assert_eq!(f[0].name, "log");
        assert_eq!((row("log").self_samples, row("log").total_samples), (5, 5));
        assert_eq!((row("b").self_samples, row("b").total_samples), (1, 4));
        assert_eq!(f.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), vec!["log", "c", "b", "a"]);
    }

    #[test]
    fn navigation_between_frames() {
        let g = graph(&[("m;a", 1), ("m;b", 1), ("m;c;d", 1)]);
        let [m, a, b, c, d] = [&["m"][..], &["m", "a"], &["m", "b"], &["m", "c"], &["m", "c", "d"]].map(|p| g.find(p).unwrap());
        assert_eq!(g.first_child(m), Some(a));
        assert_eq!(g.next_sibling(a), Some(b));
        assert_eq!(g.next_sibling(b), Some(c));
        assert_eq!(g.next_sibling(c), None);
        assert_eq!(g.prev_sibling(c), Some(b));
        assert_eq!(g.prev_sibling(a), None);
        assert_eq!(g.parent(d), Some(c));
        assert_eq!(g.first_child(d), None);
        assert_eq!(g.next_sibling(0), None);
        assert_eq!(g.parent(99), None);
    }

    #[test]
    fn visible_skips_narrow_subtrees() {
        let g = graph(&[("m;wide", 98), ("m;thin;deeper", 2)]);
        let v = g.visible(0.05);
        assert_eq!(v.iter().map(|&i| g.nodes[i].name.as_str()).collect::<Vec<_>>(), vec![ROOT, "m", "wide"]);
    }

    #[test]
    fn diff_shares_changes_and_classes() {
        // Base: 100 samples, handler 50%, gc 50%. Comparison: 200 samples,
        // handler 75% (grew by half), gc 20% (shrank), lock 5% (new); parse gone.
        let base = [("main;handler", 40), ("main;handler;parse", 10), ("gc", 50)];
        let comp = [("main;handler", 150), ("gc", 40), ("main;lock", 10)];
        let d = FlameGraph::diff(base, comp);
        let node = |p: &[&str]| d.nodes[d.find(p).unwrap()].clone();
        let h = node(&["main", "handler"]).diff.unwrap();
        assert!(close(h.base_share, 0.5) && close(h.comparison_share, 0.75));
        assert_eq!(h.class(), DiffClass::GrewMuch);
        assert_eq!(h.label(), "+50%");
        let gc = node(&["gc"]).diff.unwrap();
        assert_eq!(gc.class(), DiffClass::ShrankMuch);
        assert_eq!(gc.label(), "−60%");
        assert_eq!(node(&["main", "lock"]).diff.unwrap().class(), DiffClass::New);
        let parse = node(&["main", "handler", "parse"]);
        assert_eq!(parse.diff.unwrap().class(), DiffClass::Gone);
        assert!(parse.width > 0.0, "a vanished frame stays visible");
        // Widths are the mean of the two shares: gc (0.5 + 0.2) / 2.
        assert!(close(node(&["gc"]).width, 0.35));
        assert!(close(d.nodes[0].width, 1.0));
        assert_eq!(d.total, 300);
        let root = d.nodes[0].diff.unwrap();
        assert_eq!((root.base_samples, root.comparison_samples), (100, 200));
        let f = d.functions();
        assert_eq!(f.iter().find(|x| x.name == "handler").unwrap().diff_self, Some((40, 150)));
    }

    #[test]
    fn diff_with_itself_is_unchanged_and_with_nothing_uses_the_other() {
        let p = [("main;a", 3), ("main;b", 5), ("gc", 2)];
        let d = FlameGraph::diff(p, p);
        let g = FlameGraph::from_folded(p);
        for (n, m) in d.nodes.iter().zip(&g.nodes) {
            let x = n.diff.unwrap();
            assert_eq!(x.base_share, x.comparison_share);
            assert_eq!(x.class(), DiffClass::Same);
            assert_eq!(x.label(), "±0%");
            assert!(close(n.width, m.width) && close(n.x, m.x));
        }
        let only = FlameGraph::diff([], p);
        assert!(only.nodes.iter().skip(1).all(|n| n.diff.unwrap().class() == DiffClass::New));
        assert!(close(only.nodes[0].width, 1.0));
    }

    #[test]
    fn signed_percentages() {
        assert_eq!(signed_percent(0.0), "±0%");
        assert_eq!(signed_percent(0.0004), "±0%");
        assert_eq!(signed_percent(0.052), "+5.2%");
        assert_eq!(signed_percent(-0.35), "−35%");
        assert_eq!(signed_percent(2.0), "+200%");
        assert_eq!(DiffClass::GrewMuch.as_str(), "grew-much");
        let small = Diff { base_share: 0.5, comparison_share: 0.52, ..Default::default() };
        assert_eq!(small.class(), DiffClass::Same);
        assert_eq!(small.label(), "+4.0%");
    }
}
