import pytest

from consensus.validators import (
    CastVote,
    InvalidVote,
    SignerMetric,
    Vote,
    apply_header_vote,
    make_snapshot,
    max_faulty,
    proposer_for,
    signer_metrics,
)

A, B, C, D, E = (bytes([n]) * 20 for n in (1, 2, 3, 4, 5))
FOUR = make_snapshot([D, B, A, C])


def vote_by(snapshot, voters, vote):
    for voter in voters:
        snapshot = apply_header_vote(snapshot, voter, vote)
    return snapshot


def test_snapshot_sorts_validators():
    assert FOUR.validators == (A, B, C, D)


def test_proposer_rotates_over_sorted_validators_by_height_plus_round():
    assert [proposer_for(FOUR.validators, 1, r) for r in range(5)] == [B, C, D, A, B]
    assert proposer_for((D, C, B, A), 2, 0) == C


def test_max_faulty_for_three_f_plus_one():
    assert [max_faulty(n) for n in (1, 3, 4, 7)] == [0, 0, 1, 2]


def test_addition_needs_more_than_half():
    two_votes = vote_by(FOUR, [A, B], Vote(E, True))
    assert two_votes.validators == FOUR.validators
    assert len(two_votes.votes) == 2
    three_votes = apply_header_vote(two_votes, C, Vote(E, True))
    assert three_votes.validators == (A, B, C, D, E)
    assert three_votes.votes == ()


def test_repeated_vote_by_one_voter_counts_once():
    snapshot = vote_by(FOUR, [A, A, A, B], Vote(E, True))
    assert snapshot.validators == FOUR.validators
    assert snapshot.votes == (CastVote(A, E, True), CastVote(B, E, True))


def test_later_vote_replaces_earlier_one():
    snapshot = vote_by(FOUR, [A], Vote(C, False))
    snapshot = apply_header_vote(snapshot, A, Vote(D, False))
    snapshot = apply_header_vote(snapshot, A, Vote(C, False))
    assert snapshot.votes == (CastVote(A, C, False), CastVote(A, D, False))


def test_removal_clears_the_removed_validators_own_votes():
    snapshot = apply_header_vote(FOUR, D, Vote(E, True))
    snapshot = vote_by(snapshot, [A, B, C], Vote(D, False))
    assert snapshot.validators == (A, B, C)
    assert snapshot.votes == ()


def test_votes_that_change_nothing_are_ignored():
    assert apply_header_vote(FOUR, A, Vote(B, True)) == FOUR
    assert apply_header_vote(FOUR, A, Vote(E, False)) == FOUR
    single = make_snapshot([A])
    assert apply_header_vote(single, A, Vote(A, False)) == single


def test_single_validator_adds_by_itself():
    assert apply_header_vote(make_snapshot([A]), A, Vote(B, True)).validators == (A, B)


def test_vote_by_non_validator_is_invalid():
    with pytest.raises(InvalidVote):
        apply_header_vote(FOUR, E, None)


def test_malformed_candidate_is_invalid():
    with pytest.raises(InvalidVote):
        apply_header_vote(FOUR, A, Vote(b"\x01" * 19, True))


def test_empty_validator_set_is_invalid():
    with pytest.raises(InvalidVote):
        make_snapshot([])


def test_signer_metrics_counts_and_last_block():
    metrics = signer_metrics([(1, B), (2, C), (3, B), (4, A)], validators=FOUR.validators)
    assert metrics == (
        SignerMetric(A, 1, 4),
        SignerMetric(B, 2, 3),
        SignerMetric(C, 1, 2),
        SignerMetric(D, 0, None),
    )
