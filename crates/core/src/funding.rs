//! Co-funding carried through to the cent: an order's sources (State, FEDER, the funder's own
//! funds…) in basis points, and every amount of the order split among them so that the parts
//! always sum to the amount the ledger holds.

/// Splits `cents` among shares in basis points summing to 10,000: each gets the floor of its
/// share, then the cents left go one by one to the largest remainders (ties: the earlier
/// source). Integer arithmetic only, so the parts sum to `cents` exactly; a negative amount
/// is split as its opposite.
pub fn split_cents(cents: i64, basis_points: &[i64]) -> Vec<i64> {
    if cents < 0 {
        return split_cents(-cents, basis_points)
            .into_iter()
            .map(|c| -c)
            .collect();
    }
    let whole: i128 = basis_points.iter().map(|b| i128::from(*b)).sum();
    if whole <= 0 {
        return vec![0; basis_points.len()];
    }
    let total = i128::from(cents);
    let mut parts: Vec<i64> = basis_points
        .iter()
        .map(|b| (total * i128::from(*b) / whole) as i64)
        .collect();
    let mut order: Vec<usize> = (0..basis_points.len()).collect();
    // Largest remainder first; a stable sort keeps the sources' order on ties.
    order.sort_by_key(|i| std::cmp::Reverse(total * i128::from(basis_points[*i]) % whole));
    let mut left = cents - parts.iter().sum::<i64>();
    for i in order.into_iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_programme_example_splits_to_the_cent() {
        // "65 % par l'État, 21 % par le Feder et 14 % par la CA" of 10,000.01 €.
        assert_eq!(
            split_cents(1_000_001, &[6500, 2100, 1400]),
            vec![650_001, 210_000, 140_000]
        );
        assert_eq!(split_cents(1, &[3333, 3333, 3334]), vec![0, 0, 1]);
        assert_eq!(split_cents(2, &[5000, 5000]), vec![1, 1]);
        assert_eq!(split_cents(-3, &[5000, 5000]), vec![-2, -1]);
        assert_eq!(split_cents(100, &[]), Vec::<i64>::new());
    }

    proptest! {
        #[test]
        fn parts_always_sum_to_the_amount_and_stay_within_a_cent_of_their_share(
            cents in -10_000_000_000i64..10_000_000_000,
            raw in proptest::collection::vec(1i64..10_000, 1..8),
        ) {
            // Shares scaled to sum to 10,000 basis points, the last taking the rest.
            let sum: i64 = raw.iter().sum();
            let mut bps: Vec<i64> = raw.iter().map(|r| r * 10_000 / sum).collect();
            let last = bps.len() - 1;
            bps[last] += 10_000 - bps.iter().sum::<i64>();
            let parts = split_cents(cents, &bps);
            prop_assert_eq!(parts.iter().sum::<i64>(), cents);
            for (p, b) in parts.iter().zip(&bps) {
                let exact = cents as f64 * *b as f64 / 10_000.0;
                prop_assert!((*p as f64 - exact).abs() < 1.0 + 1e-6, "{} vs {}", p, exact);
            }
        }
    }
}
