"""The benchmark's arithmetic (bench/stats.py): the figures in bench/results/latest.json rest on it."""

import pytest

from bench.stats import added, best_under, gaps, growth_pct, max_clean_level, percentile, stalls, summarize


def test_percentile_interpolates_between_closest_ranks() -> None:
    samples = [4.0, 1.0, 3.0, 2.0]  # order does not matter
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 100) == 4.0
    assert percentile(samples, 50) == 2.5
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)


def test_percentile_of_one_sample_is_that_sample_and_of_none_is_an_error() -> None:
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_added_latency_is_the_difference_of_the_two_percentiles() -> None:
    direct = [1.0] * 98 + [2.0, 9.0]
    through = [1.5] * 98 + [3.0, 12.0]
    assert added(through, direct, 50) == pytest.approx(0.5)
    assert added(through, direct, 99) == pytest.approx(percentile(through, 99) - percentile(direct, 99))


def test_summary_reports_count_mean_and_percentiles() -> None:
    s = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (s.count, s.mean, s.p50, s.max) == (5, 3.0, 3.0, 5.0)


def test_a_stall_is_a_gap_over_twice_the_pacing() -> None:
    pacing = 0.020
    arrivals = [0.0, 0.020, 0.040, 0.080, 0.1205, 0.140]  # gaps 20, 20, 40 (not a stall), 40.5, 19.5 ms
    assert gaps(arrivals) == pytest.approx([0.020, 0.020, 0.040, 0.0405, 0.0195])
    assert stalls(arrivals, pacing) == 1
    assert stalls([0.0], pacing) == 0
    assert stalls([], pacing) == 0


def test_the_largest_clean_level_stops_at_the_first_stalled_one() -> None:
    assert max_clean_level([(100, 0), (250, 0), (500, 3), (750, 0)]) == 250
    assert max_clean_level([(250, 0), (100, 0)]) == 250
    assert max_clean_level([(100, 1)]) == 0
    assert max_clean_level([]) == 0


def test_best_throughput_only_counts_levels_whose_p99_is_under_the_limit() -> None:
    levels = [(900.0, 120.0), (1400.0, 800.0), (1600.0, 1200.0)]
    assert best_under(levels, 1000.0) == 1400.0
    assert best_under([(1600.0, 1200.0)], 1000.0) is None


def test_growth_is_relative_to_the_first_figure() -> None:
    assert growth_pct(100.0, 108.0) == pytest.approx(8.0)
    assert growth_pct(100.0, 95.0) == pytest.approx(-5.0)
    with pytest.raises(ValueError):
        growth_pct(0.0, 1.0)
