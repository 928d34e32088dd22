//! The little linear algebra MAP needs, on square matrices of at most a
//! handful of rows (one per eta) stored row-major: Cholesky factors,
//! inverses of positive-definite matrices, quadratic forms. Written here
//! because these 60 lines are all of it; a matrix crate would bring its
//! generic machinery for 3-by-3 matrices.

/// The lower Cholesky factor `L` of a symmetric `n`-by-`n` matrix
/// (`a = L L'`), or None when it is not positive definite.
pub(crate) fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = a[i * n + j];
            for k in 0..j {
                sum -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[i * n + i] = sum.sqrt();
            } else {
                l[i * n + j] = sum / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// The inverse of a symmetric positive-definite matrix, or None.
pub(crate) fn inverse(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let l = cholesky(a, n)?;
    // Solve L L' x = e_k for each column k.
    let mut inv = vec![0.0; n * n];
    for k in 0..n {
        let mut y = vec![0.0; n];
        for i in 0..n {
            let mut sum = if i == k { 1.0 } else { 0.0 };
            for j in 0..i {
                sum -= l[i * n + j] * y[j];
            }
            y[i] = sum / l[i * n + i];
        }
        for i in (0..n).rev() {
            let mut sum = y[i];
            for j in i + 1..n {
                sum -= l[j * n + i] * inv[j * n + k];
            }
            inv[i * n + k] = sum / l[i * n + i];
        }
    }
    Some(inv)
}

/// `x' A x`.
pub(crate) fn quadratic(a: &[f64], x: &[f64]) -> f64 {
    let n = x.len();
    (0..n)
        .map(|i| x[i] * (0..n).map(|j| a[i * n + j] * x[j]).sum::<f64>())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inverse_times_the_matrix_is_the_identity() {
        let a = [4.0, 1.2, 0.3, 1.2, 3.0, -0.5, 0.3, -0.5, 2.0];
        let inv = inverse(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let p: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!(
                    (p - f64::from(u8::from(i == j))).abs() < 1e-12,
                    "{i},{j}: {p}"
                );
            }
        }
        assert!(
            cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none(),
            "not positive definite"
        );
        assert!((quadratic(&[2.0, 0.0, 0.0, 3.0], &[1.0, 2.0]) - 14.0).abs() < 1e-12);
    }
}
