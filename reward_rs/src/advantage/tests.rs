//! Hand-computed cases for the estimators; the property tests against NumPy live in
//! tests/test_advantage.py.

use ndarray::{arr1, arr2, Array1, ArrayD, IxDyn};

use super::*;

const EPS: f64 = 1e-4;

fn close(got: &Array1<f64>, want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{got} vs {want:?}");
    }
}

fn close_nd<D: ndarray::Dimension>(got: &ndarray::Array<f64, D>, want: &ndarray::Array<f64, D>) {
    assert_eq!(got.shape(), want.shape(), "{got} vs {want}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{got} vs {want}");
    }
}

fn err_text<T>(r: Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn grpo_divides_by_the_sample_std_of_each_group() {
    // Group 1: mean 2, sample std 1. Group 2: mean 2, sample var 16/3.
    let r = arr1(&[1.0, 2.0, 3.0, 0.0, 0.0, 4.0]);
    let got = grpo(r.view(), Groups::Size(3), &GrpoOptions::default()).unwrap();
    let (m2, s2) = (
        4.0 / 3.0,
        ((16.0 / 9.0 * 2.0 + 64.0 / 9.0) / 2.0_f64).sqrt(),
    );
    let want = [
        -1.0 / (1.0 + EPS),
        0.0,
        1.0 / (1.0 + EPS),
        -m2 / (s2 + EPS),
        -m2 / (s2 + EPS),
        (4.0 - m2) / (s2 + EPS),
    ];
    close(&got, &want);
}

#[test]
fn grpo_population_std_when_ddof_is_zero() {
    let r = arr1(&[0.0, 0.0, 4.0, 4.0]);
    let opts = GrpoOptions {
        ddof: 0,
        ..GrpoOptions::default()
    };
    let got = grpo(r.view(), Groups::Size(4), &opts).unwrap();
    let a = 2.0 / (2.0 + EPS);
    close(&got, &[-a, -a, a, a]);
}

#[test]
fn grpo_batch_scaling_uses_the_std_of_all_rewards() {
    // Group means 2 and 5; the whole batch [1, 3, 5, 5] has sample variance 11/3.
    let r = arr1(&[1.0, 3.0, 5.0, 5.0]);
    let opts = GrpoOptions {
        scale: Scale::Batch,
        ..GrpoOptions::default()
    };
    let got = grpo(r.view(), Groups::Size(2), &opts).unwrap();
    let a = 1.0 / ((11.0_f64 / 3.0).sqrt() + EPS);
    close(&got, &[-a, a, 0.0, 0.0]);
}

#[test]
fn dr_grpo_only_centres() {
    let r = arr1(&[1.0, 3.0, 5.0, 5.0]);
    close(
        &dr_grpo(r.view(), Groups::Size(2)).unwrap(),
        &[-1.0, 1.0, 0.0, 0.0],
    );
}

#[test]
fn rloo_subtracts_the_mean_of_the_others() {
    // 1 - (2+6)/2, 2 - (1+6)/2, 6 - (1+2)/2
    let r = arr1(&[1.0, 2.0, 6.0]);
    close(
        &rloo(r.view(), Groups::Size(3)).unwrap(),
        &[-3.0, -1.5, 4.5],
    );
}

#[test]
fn explicit_group_ids_may_interleave() {
    let r = arr1(&[1.0, 10.0, 3.0, 20.0]);
    let ids = [7, 3, 7, 3];
    close(
        &dr_grpo(r.view(), Groups::Ids(&ids)).unwrap(),
        &[-1.0, -5.0, 1.0, 5.0],
    );
    close(
        &rloo(r.view(), Groups::Ids(&ids)).unwrap(),
        &[-2.0, -10.0, 2.0, 10.0],
    );
}

#[test]
fn contiguous_ids_may_have_different_group_sizes() {
    // Groups [1, 2, 6] and [4, 8]; the run layout needs no reordering.
    let r = arr1(&[1.0, 2.0, 6.0, 4.0, 8.0]);
    let ids = [5, 5, 5, -2, -2];
    close(
        &rloo(r.view(), Groups::Ids(&ids)).unwrap(),
        &[-3.0, -1.5, 4.5, -4.0, 4.0],
    );
    // The same id in two separate runs is still one group.
    let ids = [5, 5, -2, -2, 5];
    let r = arr1(&[1.0, 2.0, 4.0, 8.0, 6.0]);
    close(
        &rloo(r.view(), Groups::Ids(&ids)).unwrap(),
        &[-3.0, -1.5, -4.0, 4.0, 4.5],
    );
}

#[test]
fn equal_rewards_give_exactly_zero() {
    let r = arr1(&[0.1, 0.1, 0.1, 0.7, 0.7, 0.7]);
    // The naive mean of three 0.1s is not 0.1, so `r - mean` would not be 0: the property is real.
    assert_ne!((0.1 + 0.1 + 0.1) / 3.0, 0.1);
    for scale in [Scale::Group, Scale::Batch, Scale::None] {
        for eps in [0.0, EPS] {
            let opts = GrpoOptions {
                scale,
                eps,
                ddof: 1,
            };
            let got = grpo(r.view(), Groups::Size(3), &opts).unwrap();
            assert!(got.iter().all(|&a| a == 0.0), "{scale:?} eps={eps}: {got}");
        }
    }
    assert!(rloo(r.view(), Groups::Size(3))
        .unwrap()
        .iter()
        .all(|&a| a == 0.0));
}

#[test]
fn groups_of_one_get_zero_from_grpo_and_an_error_from_rloo() {
    let r = arr1(&[3.0, -2.0]);
    for ddof in [0, 1] {
        for scale in [Scale::Group, Scale::Batch, Scale::None] {
            let opts = GrpoOptions {
                scale,
                eps: 0.0,
                ddof,
            };
            let got = grpo(r.view(), Groups::Size(1), &opts).unwrap();
            assert_eq!(got.to_vec(), vec![0.0, 0.0]);
        }
    }
    let msg = err_text(rloo(r.view(), Groups::Size(1)));
    assert!(
        msg.contains("at least 2") && msg.contains("group 0 has 1"),
        "{msg}"
    );
    let r = arr1(&[1.0, 2.0, 3.0]);
    let msg = err_text(rloo(r.view(), Groups::Ids(&[5, 9, 5])));
    assert!(msg.contains("group id 9 has 1"), "{msg}");
}

#[test]
fn empty_batches_are_fine() {
    let r = Array1::<f64>::zeros(0);
    assert_eq!(
        grpo(r.view(), Groups::Size(4), &GrpoOptions::default())
            .unwrap()
            .len(),
        0
    );
    assert_eq!(rloo(r.view(), Groups::Ids(&[])).unwrap().len(), 0);
}

#[test]
fn bad_input_is_named() {
    let r = arr1(&[1.0, 2.0, f64::NAN, 4.0]);
    let msg = err_text(grpo(r.view(), Groups::Size(2), &GrpoOptions::default()));
    assert!(msg.contains("rewards[2] is NaN"), "{msg}");
    let r = arr1(&[1.0, f64::NEG_INFINITY]);
    assert!(err_text(rloo(r.view(), Groups::Size(2))).contains("rewards[1] is -inf"));

    let r = arr1(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    let msg = err_text(dr_grpo(r.view(), Groups::Size(2)));
    assert!(msg.contains("(5,)") && msg.contains("groups of 2"), "{msg}");
    let msg = err_text(dr_grpo(r.view(), Groups::Ids(&[1, 2])));
    assert!(
        msg.contains("rewards has shape (5,) but group_ids has shape (2,)"),
        "{msg}"
    );
    assert!(err_text(dr_grpo(r.view(), Groups::Size(0))).contains("at least 1"));

    let bad = GrpoOptions {
        ddof: 2,
        ..GrpoOptions::default()
    };
    assert!(err_text(grpo(r.view(), Groups::Size(5), &bad)).contains("ddof"));
    let bad = GrpoOptions {
        eps: -1.0,
        ..GrpoOptions::default()
    };
    assert!(err_text(grpo(r.view(), Groups::Size(5), &bad)).contains("eps"));
    let msg = err_text("grp".parse::<Scale>());
    assert!(
        msg.contains("'group', 'batch', 'none'") && msg.contains("\"grp\""),
        "{msg}"
    );

    let huge = arr1(&[f64::MAX, -f64::MAX]);
    assert!(err_text(dr_grpo(huge.view(), Groups::Size(2))).contains("overflow"));
}

fn dyn2(rows: &[[f64; 2]]) -> ArrayD<f64> {
    arr2(rows).into_dyn()
}

fn mask2(rows: &[[bool; 2]]) -> ArrayD<bool> {
    arr2(rows).into_dyn()
}

#[test]
fn whiten_uses_only_valid_entries() {
    // Valid [1, 2, 3]: mean 2, sample variance 1. The 100 is padding.
    let v = dyn2(&[[1.0, 2.0], [3.0, 100.0]]);
    let m = mask2(&[[true, true], [true, false]]);
    let got = masked_whiten(v.view(), m.view(), &WhitenOptions::default()).unwrap();
    let s = (1.0_f64 + 1e-8).sqrt();
    let want = dyn2(&[[-1.0 / s, 0.0], [1.0 / s, 0.0]]);
    close_nd(&got, &want);

    let opts = WhitenOptions {
        shift_mean: false,
        ..WhitenOptions::default()
    };
    let got = masked_whiten(v.view(), m.view(), &opts).unwrap();
    let want = dyn2(&[[2.0 - 1.0 / s, 2.0], [2.0 + 1.0 / s, 0.0]]);
    close_nd(&got, &want);
}

#[test]
fn whiten_with_nothing_or_one_valid_gives_zeros() {
    let v = dyn2(&[[1.0, 2.0], [3.0, 4.0]]);
    let none = mask2(&[[false, false], [false, false]]);
    let got = masked_whiten(v.view(), none.view(), &WhitenOptions::default()).unwrap();
    assert!(got.iter().all(|&x| x == 0.0));
    let one = mask2(&[[false, true], [false, false]]);
    let got = masked_whiten(v.view(), one.view(), &WhitenOptions::default()).unwrap();
    assert!(got.iter().all(|&x| x == 0.0), "{got}");
}

#[test]
fn whiten_names_disagreeing_shapes() {
    let v = ArrayD::<f64>::zeros(IxDyn(&[2, 3]));
    let m = ArrayD::<bool>::from_elem(IxDyn(&[2, 2]), true);
    let msg = err_text(masked_whiten(v.view(), m.view(), &WhitenOptions::default()));
    assert_eq!(msg, "values has shape (2, 3) but mask has shape (2, 2)");
}

#[test]
fn gae_by_hand() {
    // One row, reward only at the end, value 0.5 everywhere. γ = 0.9, λ = 0.8:
    // t=2: δ = 1 + 0.9·0 - 0.5 = 0.5            A = 0.5
    // t=1: δ = 0 + 0.9·0.5 - 0.5 = -0.05        A = -0.05 + 0.72·0.5 = 0.31
    // t=0: δ = -0.05                            A = -0.05 + 0.72·0.31 = 0.1732
    let r = arr2(&[[0.0, 0.0, 1.0]]);
    let v = arr2(&[[0.5, 0.5, 0.5]]);
    let m = arr2(&[[true, true, true]]);
    let out = gae(r.view(), v.view(), m.view(), 0.9, 0.8).unwrap();
    let want = arr2(&[[0.1732, 0.31, 0.5]]);
    close_nd(&out.advantages, &want);
    close_nd(&out.returns, &(want + 0.5));
}

#[test]
fn gae_stops_at_the_last_valid_token_and_skips_holes() {
    // γ = λ = 1: every valid token's advantage is (sum of later rewards) - its value.
    let r = arr2(&[[0.0, 1.0, 99.0], [0.0, 99.0, 1.0], [5.0, 5.0, 5.0]]);
    let v = arr2(&[[0.5, 0.5, 99.0], [0.5, 99.0, 0.5], [1.0, 1.0, 1.0]]);
    let m = arr2(&[
        [true, true, false],
        [true, false, true],
        [false, false, false],
    ]);
    let out = gae(r.view(), v.view(), m.view(), 1.0, 1.0).unwrap();
    let want = arr2(&[[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.0, 0.0]]);
    close_nd(&out.advantages, &want);
    let want_ret = arr2(&[[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]);
    close_nd(&out.returns, &want_ret);
}

#[test]
fn gae_rejects_bad_input() {
    let r = arr2(&[[0.0, 1.0]]);
    let m = arr2(&[[true, true]]);
    let msg = err_text(gae(r.view(), r.view(), m.view(), 1.5, 0.9));
    assert!(msg.contains("gamma must be in [0, 1], got 1.5"), "{msg}");
    let v3 = arr2(&[[0.0, 1.0, 2.0]]);
    let msg = err_text(gae(r.view(), v3.view(), m.view(), 1.0, 0.9));
    assert_eq!(msg, "rewards has shape (1, 2) but values has shape (1, 3)");
    let nan = arr2(&[[0.0, f64::NAN]]);
    let msg = err_text(gae(r.view(), nan.view(), m.view(), 1.0, 0.9));
    assert!(msg.contains("values[0, 1] is NaN"), "{msg}");
}

#[test]
fn numeric_masks_must_be_zero_or_one() {
    let m = arr2(&[[1.0, 0.0], [0.0, 1.0]]).into_dyn();
    let got = mask_from_numbers(m.view()).unwrap();
    assert_eq!(got, arr2(&[[true, false], [false, true]]).into_dyn());
    let m = arr2(&[[1.0, 0.5]]).into_dyn();
    let msg = err_text(mask_from_numbers(m.view()));
    assert!(msg.contains("mask[0, 1] is 0.5"), "{msg}");
}
