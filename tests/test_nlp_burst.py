from nlp.burst import burst_scores, volume_ratio


def test_new_topic_outranks_a_perennial_one_that_is_more_frequent():
    baseline = [{"质量": 20, "退款": 15, "衣服掉色": 0} for _ in range(7)]
    now = {"质量": 24, "退款": 17, "衣服掉色": 12}
    ranked = burst_scores(now, baseline, current_docs=60, baseline_docs=[50] * 7)
    assert ranked[0].topic == "衣服掉色" and ranked[0].rising
    assert not any(b.rising for b in ranked if b.topic in ("质量", "退款"))


def test_a_busier_window_raises_expectations_but_only_so_far():
    assert volume_ratio(100, [50, 50]) == 2.0
    assert volume_ratio(1000, [50, 50]) == 3.0  # clipped: one surge must not hide others
    assert volume_ratio(10, []) == 1.0
    base = [{"门票贵": 4}] * 7
    quiet = burst_scores({"门票贵": 8}, base, current_docs=40, baseline_docs=[40] * 7)[0]
    busy = burst_scores({"门票贵": 8}, base, current_docs=120, baseline_docs=[40] * 7)[0]
    assert quiet.score > busy.score


def test_rare_mentions_are_not_topics():
    assert burst_scores({"蛋糕发霉": 2}, [{}] * 7, 10, [10] * 7, min_count=3) == []
