"""Requests per ADI per minute per band over the 24-hour periods (local days) of a month.

EVRYTHNG: "Measuring of Request Allowance shall be as an average against a Customer's
operational ADIs by the relevant ADI Bands over 24 hour periods." A UTC day has 1,440
minutes: band A (0.5 per minute) allows 720 requests per ADI per day, Trial (0.1) 144,
F and U (0.3) 432, B (2) 2,880.
"""

from __future__ import annotations

from pathlib import Path

from slastream.model.time import Month
from slastream.model.usage import MB
from slastream.usage.bands import read_mapping
from slastream.usage.counter import UsageCounter, UsageRequest
from slastream.usage.report import usage_figures, usage_report
from tests.usage.helpers import EVRYTHNG_USAGE, ms, report, run, spread, terms

DAY = ms("2026-10-05T00:00:00")


def band(counter: UsageCounter, month: str, name: str) -> dict[str, object]:
    return next(b for b in report(counter, month).to_json()["bands"] if b["band"] == name)


def test_mean_exactly_at_the_allowance_is_not_over() -> None:
    """Two A devices with 720 requests each on 5 October: (720 + 720) / (2 ADIs × 1,440 min)
    = 0.5 per minute, exactly the allowance: not over, and neither ADI is over."""
    counter = run(spread("a-1", DAY, 720) + spread("a-2", DAY, 720))
    a = band(counter, "2026-10", "A")
    assert (a["adis"], a["mean_per_minute"], a["over_allowance"], a["days_over"]) == (
        2, 0.5, 0, 0)
    assert a["allowance_per_minute"] == 0.5 and a["peak_day"] == "2026-10-05"


def test_one_request_more_is_over() -> None:
    """721 + 720 requests: 1,441 / 2,880 = 0.50035 per minute > 0.5, the day is over; a-1
    alone is over (721 / 1,440 > 0.5) and is the band's offender."""
    counter = run(spread("a-1", DAY, 721) + spread("a-2", DAY, 720))
    a = band(counter, "2026-10", "A")
    assert a["mean_per_minute"] == round(1441 / 2880, 6) and a["days_over"] == 1
    assert a["over_allowance"] == 1
    assert a["offenders"] == [{"client": "a-1", "day_start": "2026-10-05T00:00:00Z",
                               "requests": 721, "per_minute": round(721 / 1440, 6)}]


def test_band_average_hides_a_busy_adi_but_counts_it() -> None:
    """Trial (0.1/min = 144 per day): t-1 makes 200, t-2 88: mean (200 + 88) / 2,880 = 0.1,
    at the allowance, so the band is not over; but t-1 is an ADI over the allowance."""
    counter = run(spread("trial-1", DAY, 200) + spread("trial-2", DAY, 88))
    t = band(counter, "2026-10", "Trial")
    assert (t["mean_per_minute"], t["days_over"], t["over_allowance"]) == (0.1, 0, 1)


def test_bands_near_their_limits() -> None:
    """One day, one ADI per band: F 432 (0.3, at), U 433 (over), B 2,880 (2.0, at)."""
    counter = run(spread("f-1", DAY, 432) + spread("u-1", DAY, 433) + spread("b-1", DAY, 2880))
    got = {b["band"]: (b["mean_per_minute"], b["days_over"]) for b in
           report(counter, "2026-10").to_json()["bands"]}
    assert got == {"Trial": (0.0, 0), "F": (0.3, 0), "U": (round(433 / 1440, 6), 1),
                   "A": (0.0, 0), "B": (2.0, 0)}


def test_adis_without_requests_are_not_operational(tmp_path: Path) -> None:
    """The mapping file lists four A ADIs; only two make requests on 5 October (720 and 720):
    the mean is over the two operational ADIs, 0.5, not over four (which would be 0.25).
    On 6 October only a-3 is operational."""
    mapping = tmp_path / "adis.csv"
    mapping.write_text("client,band\nx-1,A\nx-2,A\nx-3,A\nx-4,A\nx-5,Z\n")
    raw = {**EVRYTHNG_USAGE, "mapping_file": "adis.csv"}
    counter = UsageCounter(terms(raw), "UTC", 120)
    counter.load_mapping(read_mapping(mapping, counter.terms))
    counter.feed(sorted(spread("x-1", DAY, 720) + spread("x-2", DAY, 720)
                        + spread("x-3", DAY + 86_400_000, 100)))
    counter.flush()
    rep = report(counter, "2026-10")
    days = [(d.date, d.bands[3].adis, d.bands[3].mean_per_minute) for d in rep.days]
    assert days == [("2026-10-05", 2, 0.5), ("2026-10-06", 1, 100 / 1440)]
    assert rep.bands[3].adis == 3  # operational on some day of the month
    assert dict(rep.rejected)["mapping_unknown_band"] == 1


def test_days_follow_the_time_zone_and_months_split_there() -> None:
    """Europe/Berlin (UTC+1 in November): 31 October 23:30 UTC is 1 November 00:30 local.
    a-1 makes 690 requests from then on, 2 minutes apart (to 23:28 local): all on
    1 November, 690 / 1,440 per minute, in November's ledger; October has nothing."""
    counter = run(spread("a-1", ms("2026-10-31T23:30:00"), 690, 690 * 120_000),
                  timezone="Europe/Berlin")
    nov = report(counter, "2026-11")
    assert [d.date for d in nov.days] == ["2026-11-01"]
    assert nov.days[0].start_ms == ms("2026-10-31T23:00:00")
    assert nov.bands[3].adis == 1 and nov.bands[3].mean_per_minute == 690 / 1440
    assert report(counter, "2026-10").bands[3].adis == 0


def test_a_25_hour_day_allows_more_requests() -> None:
    """Europe/Berlin leaves summer time on 25 October 2026: that day has 25 h = 1,500 minutes,
    so band A allows 750 requests; 750 is at the allowance, 751 over."""
    start = ms("2026-10-24T22:00:00")  # local midnight, UTC+2
    at = run(spread("a-1", start, 750, 90_000_000), timezone="Europe/Berlin")
    over = run(spread("a-1", start, 751, 90_000_000), timezone="Europe/Berlin")
    assert report(at, "2026-10").days[0].bands[3].minutes == 1500
    assert report(at, "2026-10").bands[3].over_allowance == 0
    assert report(over, "2026-10").bands[3].over_allowance == 1


def test_month_counts_distinct_adis_over_its_days() -> None:
    """a-1 on 30 and 31 October and 1 November, a-2 on 31 October only (each 100 a day):
    October has 2 operational ADIs over 2 days, November 1."""
    requests = [r for d in (29, 30, 31) for r in
                spread("a-1", ms("2026-10-01T00:00:00") + d * 86_400_000, 100)]
    requests += spread("a-2", ms("2026-10-31T00:00:00"), 100)
    counter = run(requests)
    oct_a, nov_a = band(counter, "2026-10", "A"), band(counter, "2026-11", "A")
    assert (oct_a["adis"], oct_a["days"], nov_a["adis"], nov_a["days"]) == (2, 2, 1, 1)


def test_transfer_per_thousand_adis_when_sizes_are_known() -> None:
    """Two Trial ADIs move 1 MB each on 5 October: 2 MB / 2 ADIs × 1,000 = 1,000 MB per
    1,000 ADIs, far over Trial's 2 MB; two A ADIs at 0.5 MB each: 500 MB, under 1,024.
    Without sizes the figure is null."""
    requests = (spread("trial-1", DAY, 4, size=MB // 4) + spread("trial-2", DAY, 4, size=MB // 4)
                + spread("a-1", DAY, 2, size=MB // 4) + spread("a-2", DAY, 2, size=MB // 4)
                + spread("b-1", DAY, 2))
    got = {b["band"]: (b["transfer_mb_per_1000"], b["days_over_transfer"],
                       b["transfer_allowance_mb_per_1000"])
           for b in report(run(requests), "2026-10").to_json()["bands"]}
    assert got["Trial"] == (1000.0, 1, 2.0)
    assert got["A"] == (500.0, 0, 1024.0)
    assert got["B"] == (None, 0, 4608.0)


def test_rejections_are_counted() -> None:
    """An empty client, a client of no band and a request of another component: the first
    two are counted rejections, the third is not ours."""
    counter = UsageCounter(terms(), "UTC", 120)
    counter.feed(spread("", DAY, 2) + spread("z-1", DAY, 3)
                 + [UsageRequest(DAY, "web", "a-1")])
    counter.flush()
    assert report(counter, "2026-10").bands[3].adis == 0
    assert dict(report(counter, "2026-10").rejected) == {"no_client": 2, "no_band": 3}


def test_ledger_shape_and_live_figures() -> None:
    """Mid-day (watermark 12:00), a-1 with 400 requests by 11:59 and a-2 with 100: the open
    day so far is listed but not judged in the headline; /metrics figures show its mean per
    minute elapsed (500 / (2 × 720) = 0.347); no ADI is over yet: a-1's 400 are not past
    the day's 720."""
    counter = UsageCounter(terms(), "UTC", 120)
    counter.feed(spread("a-1", DAY, 400, 43_000_000) + spread("a-2", DAY, 100, 43_000_000))
    counter.advance(DAY + 43_200_000)
    rep = usage_report(counter, Month.parse("2026-10", "UTC")).to_json()
    assert list(rep)[:2] == ["bands", "intensive"]
    assert list(rep["bands"][0])[:5] == ["band", "adis", "allowance_per_minute",
                                         "mean_per_minute", "over_allowance"]
    assert rep["bands"][3]["adis"] == 0 and rep["days"][0]["complete"] is False
    today = usage_figures(counter).today[3]
    assert (today.adis, round(today.mean_per_minute, 3), today.over_allowance) == (2, 0.347, 0)


def test_late_requests_count_for_the_open_day_only() -> None:
    """With the watermark at 6 October 01:00 (5 October closed), a request of 6 October
    00:30 arriving now still counts for the open day; one of 5 October is rejected as
    late, and 5 October's figures do not change."""
    counter = UsageCounter(terms(), "UTC", 120)
    counter.feed(spread("a-1", DAY, 720) + spread("a-1", DAY + 86_400_000, 10, 3_600_000))
    counter.advance(DAY + 90_000_000)
    counter.feed([UsageRequest(DAY + 88_200_000, "api", "a-2"),
                  UsageRequest(DAY + 3_600_000, "api", "a-2")])
    counter.flush()
    rep = report(counter, "2026-10")
    assert [(d.date, d.bands[3].adis, d.bands[3].requests) for d in rep.days] == [
        ("2026-10-05", 1, 720), ("2026-10-06", 2, 11)]
    assert dict(rep.rejected) == {"late": 1}
