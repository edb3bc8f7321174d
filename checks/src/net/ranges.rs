//! Sets of integers kept as sorted, disjoint, inclusive intervals.
//!
//! Both axes of a network flow are such sets: IPv4 addresses (as `u32`) and
//! TCP ports. Keeping them as intervals rather than enumerating members makes
//! the evaluators exact for a `/0` source or the 64,512 ephemeral ports at the
//! cost of a few comparisons.

use std::fmt;

use ipnet::Ipv4Net;

/// How much of a flow space a rule set lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Every address and port of the flow is allowed.
    All,
    /// No address or port of the flow is allowed.
    None,
    /// Some are allowed and some are not: the verdict depends on the exact
    /// source or port, which configuration alone does not tell.
    Partial,
}

/// A set of `u64` values as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntervalSet {
    ranges: Vec<(u64, u64)>,
}

impl IntervalSet {
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn range(lo: u64, hi: u64) -> Self {
        if lo > hi {
            return Self::empty();
        }
        Self {
            ranges: vec![(lo, hi)],
        }
    }

    pub fn from_ranges(ranges: impl IntoIterator<Item = (u64, u64)>) -> Self {
        let mut v: Vec<(u64, u64)> = ranges.into_iter().filter(|(a, b)| a <= b).collect();
        v.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
        for (lo, hi) in v {
            match out.last_mut() {
                // Adjacent ranges merge too, so equal sets compare equal.
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        Self { ranges: out }
    }

    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The number of members, for evidence and for the property tests.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|(a, b)| b - a + 1).sum()
    }

    pub fn contains(&self, x: u64) -> bool {
        self.ranges
            .binary_search_by(|&(lo, hi)| {
                if hi < x {
                    std::cmp::Ordering::Less
                } else if lo > x {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    pub fn union(&self, other: &Self) -> Self {
        Self::from_ranges(self.ranges.iter().chain(other.ranges.iter()).copied())
    }

    pub fn intersect(&self, other: &Self) -> Self {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a0, a1) = self.ranges[i];
            let (b0, b1) = other.ranges[j];
            let lo = a0.max(b0);
            let hi = a1.min(b1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a1 < b1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Self { ranges: out }
    }

    pub fn subtract(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        for &(lo, hi) in &self.ranges {
            let mut cur = lo;
            let mut open = true;
            for &(b0, b1) in &other.ranges {
                if b1 < cur || b0 > hi {
                    continue;
                }
                if b0 > cur {
                    out.push((cur, b0 - 1));
                }
                if b1 >= hi {
                    open = false;
                    break;
                }
                cur = b1 + 1;
            }
            if open {
                out.push((cur, hi));
            }
        }
        Self { ranges: out }
    }

    pub fn is_subset_of(&self, other: &Self) -> bool {
        self.subtract(other).is_empty()
    }

    /// How much of `self` lies in `allowed`.
    pub fn coverage_by(&self, allowed: &Self) -> Coverage {
        let inside = self.intersect(allowed);
        if inside.is_empty() {
            Coverage::None
        } else if inside == *self {
            Coverage::All
        } else {
            Coverage::Partial
        }
    }

    /// Splits `self` into maximal pieces on which membership in each of
    /// `cuts` is constant: the elementary intervals the evaluators walk.
    pub fn split_by<'a>(&self, cuts: impl IntoIterator<Item = &'a IntervalSet>) -> Vec<(u64, u64)> {
        let mut points: Vec<u64> = Vec::new();
        for c in cuts {
            for &(lo, hi) in &c.ranges {
                points.push(lo);
                if hi < u64::MAX {
                    points.push(hi + 1);
                }
            }
        }
        points.sort_unstable();
        points.dedup();
        let mut out = Vec::new();
        for &(lo, hi) in &self.ranges {
            let mut start = lo;
            for &p in points.iter().filter(|&&p| p > lo && p <= hi) {
                out.push((start, p - 1));
                start = p;
            }
            out.push((start, hi));
        }
        out
    }
}

/// IPv4 addresses as an [`IntervalSet`] over `u32`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddrSet(pub IntervalSet);

impl AddrSet {
    pub fn any() -> Self {
        AddrSet(IntervalSet::range(0, u64::from(u32::MAX)))
    }

    pub fn empty() -> Self {
        AddrSet(IntervalSet::empty())
    }

    pub fn from_net(net: &Ipv4Net) -> Self {
        AddrSet(IntervalSet::range(
            u64::from(u32::from(net.network())),
            u64::from(u32::from(net.broadcast())),
        ))
    }

    pub fn from_nets<'a>(nets: impl IntoIterator<Item = &'a Ipv4Net>) -> Self {
        AddrSet(IntervalSet::from_ranges(nets.into_iter().map(|n| {
            (
                u64::from(u32::from(n.network())),
                u64::from(u32::from(n.broadcast())),
            )
        })))
    }

    pub fn union(&self, other: &Self) -> Self {
        AddrSet(self.0.union(&other.0))
    }
}

impl fmt::Display for AddrSet {
    /// Prints the set as the shortest list of CIDR blocks, the form users
    /// write in rules.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no address");
        }
        let mut first = true;
        for &(lo, hi) in self.0.ranges() {
            for net in cidrs_of_range(lo as u32, hi as u32) {
                if !first {
                    f.write_str(", ")?;
                }
                first = false;
                write!(f, "{net}")?;
            }
        }
        Ok(())
    }
}

/// The minimal list of CIDR blocks covering `lo..=hi` exactly.
pub fn cidrs_of_range(lo: u32, hi: u32) -> Vec<Ipv4Net> {
    let mut out = Vec::new();
    let mut cur = u64::from(lo);
    let end = u64::from(hi);
    while cur <= end {
        let align = if cur == 0 {
            32
        } else {
            cur.trailing_zeros().min(32)
        };
        let mut size = align;
        while size > 0 && cur + (1u64 << size) - 1 > end {
            size -= 1;
        }
        let prefix = (32 - size) as u8;
        if let Ok(net) = Ipv4Net::new(std::net::Ipv4Addr::from(cur as u32), prefix) {
            out.push(net);
        }
        cur += 1u64 << size;
    }
    out
}

/// TCP ports as an [`IntervalSet`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortSet(pub IntervalSet);

/// The ports a stateless return path must admit: AWS documents 1024-65535 as
/// the ephemeral range clients (load balancer nodes included) may use.
pub const EPHEMERAL: (u16, u16) = (1024, 65535);

impl PortSet {
    pub fn single(p: u16) -> Self {
        PortSet(IntervalSet::range(u64::from(p), u64::from(p)))
    }

    pub fn range(lo: u16, hi: u16) -> Self {
        PortSet(IntervalSet::range(u64::from(lo), u64::from(hi)))
    }

    pub fn all() -> Self {
        Self::range(0, 65535)
    }

    pub fn ephemeral() -> Self {
        Self::range(EPHEMERAL.0, EPHEMERAL.1)
    }

    pub fn of(ports: impl IntoIterator<Item = u16>) -> Self {
        PortSet(IntervalSet::from_ranges(
            ports.into_iter().map(|p| (u64::from(p), u64::from(p))),
        ))
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .ranges()
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}-{hi}")
                }
            })
            .collect();
        if parts.is_empty() {
            f.write_str("no port")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(r: &[(u64, u64)]) -> IntervalSet {
        IntervalSet::from_ranges(r.iter().copied())
    }

    #[test]
    fn normalises_overlapping_and_adjacent_ranges() {
        assert_eq!(
            set(&[(5, 9), (1, 3), (4, 4), (20, 30)]).ranges(),
            &[(1, 9), (20, 30)]
        );
        assert!(set(&[(3, 1)]).is_empty());
    }

    #[test]
    fn set_algebra() {
        let a = set(&[(0, 10), (20, 30)]);
        let b = set(&[(5, 25)]);
        assert_eq!(a.intersect(&b).ranges(), &[(5, 10), (20, 25)]);
        assert_eq!(a.subtract(&b).ranges(), &[(0, 4), (26, 30)]);
        assert_eq!(a.union(&b).ranges(), &[(0, 30)]);
        assert!(set(&[(6, 9)]).is_subset_of(&a));
        assert!(!set(&[(9, 21)]).is_subset_of(&a));
        assert_eq!(
            set(&[(0, u64::MAX)]).subtract(&set(&[(0, u64::MAX)])),
            IntervalSet::empty()
        );
    }

    #[test]
    fn coverage_is_three_valued() {
        let flow = set(&[(10, 20)]);
        assert_eq!(flow.coverage_by(&set(&[(0, 100)])), Coverage::All);
        assert_eq!(flow.coverage_by(&set(&[(21, 100)])), Coverage::None);
        assert_eq!(flow.coverage_by(&set(&[(15, 100)])), Coverage::Partial);
    }

    #[test]
    fn split_cuts_at_every_boundary_inside_the_set() {
        let s = set(&[(0, 100)]);
        let c1 = set(&[(10, 20)]);
        let c2 = set(&[(15, 200)]);
        assert_eq!(
            s.split_by([&c1, &c2]),
            vec![(0, 9), (10, 14), (15, 20), (21, 100)]
        );
    }

    #[test]
    fn prints_minimal_cidrs_and_port_lists() {
        let n: Ipv4Net = "10.0.1.0/24".parse().unwrap();
        let m: Ipv4Net = "10.0.2.0/24".parse().unwrap();
        // Adjacent but not aligned: two blocks, not a /23.
        assert_eq!(
            AddrSet::from_nets([&n, &m]).to_string(),
            "10.0.1.0/24, 10.0.2.0/24"
        );
        let z: Ipv4Net = "10.0.0.0/24".parse().unwrap();
        assert_eq!(AddrSet::from_nets([&z, &n]).to_string(), "10.0.0.0/23");
        assert_eq!(AddrSet::any().to_string(), "0.0.0.0/0");
        // 1..=6 is .1/32, .2/31, .4/31 and .6/32.
        assert_eq!(cidrs_of_range(1, 6).len(), 4);
        assert_eq!(PortSet::of([80, 81, 443]).to_string(), "80-81, 443");
    }
}
