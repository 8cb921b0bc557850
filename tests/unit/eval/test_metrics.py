import pytest

from localchain.errors import ConfigError
from localchain.eval.metrics import bleu, exact_match, normalize, rouge, score


def test_exact_match_normalises_case_and_whitespace():
    assert normalize("  Paris \n is\tNICE ") == "paris is nice"
    assert exact_match(["Paris", " paris  "], ["paris", "PARIS"]) == 1.0
    assert exact_match(["Paris", "Lyon", "Paris."], ["Paris", "Paris", "Paris"]) == pytest.approx(
        1 / 3
    )
    assert exact_match([], []) == 0.0


def test_rouge_of_identical_strings_is_one():
    scores = rouge(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert scores == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}


def test_rouge_known_partial_case():
    # Reference "the cat" vs prediction "the cat sat on the mat": 2 of 6 unigrams match.
    # rouge1: P=2/6, R=2/2 -> F1=0.5; rouge2: 1 of 5 bigrams -> P=1/5, R=1/1 -> F1=1/3.
    scores = rouge(["the cat sat on the mat"], ["the cat"])
    assert scores["rouge1"] == pytest.approx(0.5)
    assert scores["rouge2"] == pytest.approx(1 / 3)
    assert scores["rougeL"] == pytest.approx(0.5)
    assert rouge(["dog"], ["cat"])["rouge1"] == 0.0


def test_rouge_averages_over_pairs():
    assert rouge(["a b", "x"], ["a b", "y"])["rouge1"] == pytest.approx(0.5)


def test_bleu_of_identical_is_100_and_of_disjoint_is_0():
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100.0)
    assert bleu(["Paris"], ["Paris"]) == pytest.approx(100.0)  # short answers: effective order
    assert bleu(["dog"], ["cat"]) == 0.0


def test_bleu_known_partial_case():
    # One substituted word of six: p1=5/6, p2=3/5, p3=1/4, p4=0/3 -> with sacrebleu's default
    # smoothing this is sacrebleu's published value for this pair.
    value = bleu(["the cat sat on a mat"], ["the cat sat on the mat"])
    assert 0 < value < 100
    assert value == pytest.approx(53.728, abs=0.01)


def test_score_returns_every_metric_and_checks_lengths():
    result = score(["Paris"], ["Paris"])
    assert result == {
        "exact_match": 1.0,
        "rouge1": 1.0,
        "rouge2": 0.0,  # one word has no bigram
        "rougeL": 1.0,
        "bleu": pytest.approx(100.0),
    }
    with pytest.raises(ConfigError, match="one prediction per reference"):
        score(["a"], ["a", "b"])
