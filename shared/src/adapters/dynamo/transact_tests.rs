//! Tests of the transaction builder and of how cancellations are read.

use super::*;

const CLAIM: Condition = "claim";
const QUOTA: Condition = "quota";

fn codes(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| (*c).to_owned()).collect()
}

fn key(sk: &str) -> Key {
    Key {
        pk: "P".into(),
        sk: sk.into(),
    }
}

fn plain(sk: &str) -> Write {
    Write::delete("t", &key(sk), None, Expression::default()).unwrap()
}

fn conditional(sk: &str) -> Write {
    Write::create("t", key(sk).to_attributes()).unwrap()
}

fn cancelled(writes: &[Write], reasons: &[&str]) -> Cancelled {
    let names: Vec<_> = writes.iter().map(Write::condition).collect();
    Cancelled::new(&names, codes(reasons))
}

#[test]
fn a_cancellation_names_the_writes_whose_conditions_failed() {
    let writes = [
        conditional("a"),
        conditional("b").named(CLAIM),
        conditional("c").named(QUOTA),
    ];
    let failed = cancelled(&writes, &["None", "ConditionalCheckFailed", "None"]);
    assert!(failed.failed_named(CLAIM));
    assert!(!failed.failed_named(QUOTA));
    assert!(failed.any_failed());

    let both = cancelled(
        &writes,
        &["None", "ConditionalCheckFailed", "ConditionalCheckFailed"],
    );
    assert!(both.failed_named(CLAIM) && both.failed_named(QUOTA));
}

#[test]
fn optional_writes_before_a_condition_do_not_change_its_name() {
    // The same transaction with and without two unconditional items in
    // front: the quota is the third write in one, the fifth in the other.
    for extra in [0, 2] {
        let mut writes: Vec<Write> = (0..extra).map(|i| plain(&format!("x{i}"))).collect();
        writes.push(conditional("a").named(CLAIM));
        writes.push(plain("audit"));
        writes.push(conditional("q").named(QUOTA));
        let mut reasons = vec!["None"; writes.len()];
        reasons[writes.len() - 1] = "ConditionalCheckFailed";
        let failed = cancelled(&writes, &reasons);
        assert!(failed.failed_named(QUOTA), "with {extra} in front");
        assert!(!failed.failed_named(CLAIM), "with {extra} in front");
    }
}

#[test]
fn writes_sharing_a_name_are_told_apart_by_occurrence() {
    let writes = [
        plain("event"),
        conditional("w0").named(QUOTA),
        conditional("claim").named(CLAIM),
        conditional("w1").named(QUOTA),
    ];
    let second = cancelled(&writes, &["None", "None", "None", "ConditionalCheckFailed"]);
    assert_eq!(second.failed_occurrence(QUOTA), Some(1));
    assert_eq!(second.failed_occurrence(CLAIM), None);
    let none = cancelled(&writes, &["None", "None", "ConditionalCheckFailed", "None"]);
    assert_eq!(none.failed_occurrence(QUOTA), None);
}

#[test]
fn an_unnamed_failure_is_a_failure_without_a_name() {
    let writes = [conditional("a"), conditional("b").named(CLAIM)];
    let failed = cancelled(&writes, &["ConditionalCheckFailed", "None"]);
    assert!(failed.any_failed());
    assert!(!failed.failed_named(CLAIM));
    assert_eq!(failed.failed_names().collect::<Vec<_>>(), vec![None]);
}

#[test]
fn conflicts_between_transactions_are_no_failed_condition() {
    let writes = [conditional("a").named(CLAIM)];
    let conflict = cancelled(&writes, &["TransactionConflict"]);
    assert!(!conflict.any_failed());
    assert!(!conflict.failed_named(CLAIM));
}
