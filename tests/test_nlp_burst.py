import math

from nlp.burst import burst_scores, expected_counts, poisson_surprise, volume_ratio


def test_new_topic_outranks_a_perennial_one_that_is_more_frequent():
    baseline = [{"质量": 20, "退款": 15} for _ in range(7)]
    now = {"质量": 24, "退款": 17, "衣服掉色": 12}
    ranked = burst_scores(now, baseline)
    assert ranked[0].topic == "衣服掉色" and ranked[0].rising
    assert not any(b.rising for b in ranked if b.topic in ("质量", "退款"))


def test_never_seen_topics_get_a_modest_expectation_not_zero():
    assert expected_counts([{}] * 7, ["蛋糕发霉"])["蛋糕发霉"] == 0.5
    assert not burst_scores({"蛋糕发霉": 3}, [{}] * 7)[0].rising   # p = 0.014: could be chance
    assert burst_scores({"蛋糕发霉": 6}, [{}] * 7)[0].rising       # p = 1e-5: is not


def test_a_generally_busier_window_raises_expectations_but_one_surge_does_not():
    base = [{f"词{i}": 10 for i in range(8)} for _ in range(7)]
    holiday = {f"词{i}": 20 for i in range(8)}  # everything doubled: nothing is rising
    assert volume_ratio(holiday, expected_counts(base, holiday)) > 1.8
    assert not any(b.rising for b in burst_scores(holiday, base))
    one_surge = {f"词{i}": 10 for i in range(8)} | {"词0": 60}
    assert 0.9 < volume_ratio(one_surge, expected_counts(base, one_surge)) < 1.1
    assert [b.topic for b in burst_scores(one_surge, base) if b.rising] == ["词0"]


def test_poisson_surprise_matches_the_tail_probability():
    # P(X >= 4 | 0.5) = 1 - e^-0.5 (1 + 0.5 + 0.125 + 0.0208333)
    p = 1 - math.exp(-0.5) * (1 + 0.5 + 0.125 + 0.5 ** 3 / 6)
    assert abs(poisson_surprise(4, 0.5) - (-math.log10(p))) < 1e-9
    assert poisson_surprise(3, 5.0) == 0.0
    assert poisson_surprise(5000, 1.0) > 100  # no overflow or underflow to nonsense


def test_rare_mentions_are_not_topics():
    assert burst_scores({"蛋糕发霉": 2}, [{}] * 7, min_count=3) == []


def test_the_rising_bar_rises_with_the_number_of_topics_tested():
    from nlp.burst import rising_threshold
    assert rising_threshold(3) == 2.5
    assert abs(rising_threshold(2000) - 4.6) < 0.01
    # 2,000 steady topics plus one that appears 4 times out of nowhere: with so many tested,
    # four chance mentions are not a burst; forty are
    base = [{f"词{i}": 5 for i in range(2000)} for _ in range(7)]
    now = {f"词{i}": 5 for i in range(2000)} | {"冷门": 4, "蛋糕发霉": 40}
    rising = [b.topic for b in burst_scores(now, base) if b.rising]
    assert rising == ["蛋糕发霉"]
