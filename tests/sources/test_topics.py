"""Topic layouts: templates → canonical topic levels and subscription filters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slastream.sources.topics import Layouts, TemplateError, compile_template

DEFAULT = Layouts.from_config()


@pytest.mark.parametrize(("topic", "levels"), [
    ("eu868/gateway/0016c001f153a14c/event/up",
     ["eu868", "gateway", "0016c001f153a14c", "event", "up"]),
    ("gateway/0016c001f153a14c/event/up",
     ["default", "gateway", "0016c001f153a14c", "event", "up"]),
    ("gateway/0016c001f153a14c/command/down",
     ["default", "gateway", "0016c001f153a14c", "command", "down"]),
    ("application/6c2a/device/0102030405060708/event/txack",
     ["application", "6c2a", "device", "0102030405060708", "event", "txack"]),
    ("v3/sensors@acme/devices/eui-1/down/queued",
     ["v3", "sensors@acme", "devices", "eui-1", "down", "queued"]),
    ("v3/sensors/devices/eui-1/up", ["v3", "sensors", "devices", "eui-1", "up"]),
])
def test_default_layouts_cover_prefixed_unprefixed_and_tenant_topics(
        topic: str, levels: list[str]) -> None:
    assert DEFAULT.canonical(topic) == levels


@pytest.mark.parametrize("topic", [
    "gateway/0016c001f153a14c/state/conn",  # gateway state: not an event slastream reads
    "eu868/gateway/0016c001f153a14c/event/stats",
    "chrp-gateway/au16ch/0016c001f153a14c/event/up",  # an operator prefix: needs a template
    "application/6c2a/device/0102/event/status",
    "slastream/probe/api",
])
def test_topics_outside_the_layouts_do_not_match(topic: str) -> None:
    assert DEFAULT.canonical(topic) is None


def test_an_operator_prefix_is_one_template() -> None:
    layouts = Layouts.from_config(
        {"chirpstack_gateway": ["chrp-gateway/{region}/{gateway}/{event}"]})
    assert layouts.canonical("chrp-gateway/au16ch/0016c001f153a14c/event/up") == [
        "au16ch", "gateway", "0016c001f153a14c", "event", "up"]
    # the defaults of that source are replaced, the other sources keep theirs
    assert layouts.canonical("eu868/gateway/0016c001f153a14c/event/up") is None
    assert layouts.canonical("v3/app/devices/d/up") == ["v3", "app", "devices", "d", "up"]
    assert "chrp-gateway/+/+/event/up" in layouts.filters()


def test_default_filters_subscribe_to_both_chirpstack_gateway_layouts() -> None:
    filters = DEFAULT.filters()
    for f in ("+/gateway/+/event/up", "gateway/+/event/up", "gateway/+/command/down",
              "gateway/+/event/ack", "application/+/device/+/event/up", "v3/+/devices/+/up",
              "v3/+/devices/+/down/failed"):
        assert f in filters
    assert len(filters) == len(set(filters))


@pytest.mark.parametrize(("text", "reason"), [
    ("{gw}/gateway/{gateway}/{event}", "unknown field {gw}"),
    ("gateway/{gateway}/{event}/x", "must end with {event}"),
    ("+/gateway/{gateway}/{event}", "not an MQTT filter"),
    ("gateway/{event}", "must name {gateway}"),
    ("{gateway}/{gateway}/{event}", "appears twice"),
])
def test_broken_templates_say_why(text: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason.replace("{", r"\{").replace("}", r"\}")):
        compile_template("chirpstack_gateway", text)


_level = st.text(alphabet="abcdef0123456789-_", min_size=1, max_size=12)


@given(_level, _level)
def test_every_matching_topic_is_covered_by_a_filter(region: str, gateway: str) -> None:
    for topic in (f"{region}/gateway/{gateway}/event/up", f"gateway/{gateway}/command/down"):
        assert DEFAULT.canonical(topic) is not None
        assert any(_matches(f, topic) for f in DEFAULT.filters())


def _matches(flt: str, topic: str) -> bool:
    fl, tl = flt.split("/"), topic.split("/")
    return len(fl) == len(tl) and all(f in ("+", t) for f, t in zip(fl, tl, strict=True))


def test_the_default_subscription_is_the_default_layouts() -> None:
    from slastream.model.spec import DEFAULT_TOPICS

    assert (*DEFAULT.filters(), "slastream/#") == DEFAULT_TOPICS


def test_a_config_with_its_own_layout_subscribes_to_it() -> None:
    from slastream.config import parse_settings
    from slastream.sources import router

    settings = parse_settings({
        "slos": [{"name": "d", "sli": "delivery", "objective": 0.999}],
        "topic_layouts": {"chirpstack_gateway": ["chrp-gateway/{region}/{gateway}/{event}"]}})
    assert "chrp-gateway/+/+/event/up" in settings.mqtt.topics
    assert "+/gateway/+/event/up" not in settings.mqtt.topics
    assert "v3/+/devices/+/up" in settings.mqtt.topics and "slastream/#" in settings.mqtt.topics
    rt = router.for_settings(settings)
    assert rt.resolve("chrp-gateway/au16ch/gw1/event/up")[1:] == (
        "chirpstack_gateway", ["au16ch", "gateway", "gw1", "event", "up"])


def test_bad_layouts_are_config_problems() -> None:
    from slastream.config import parse_settings
    from slastream.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_settings({"slos": [{"name": "d", "sli": "delivery", "objective": 0.999}],
                        "topic_layouts": {"chirpstack_gateway": ["gw/{event}"],
                                          "loriot": ["x/{event}"]}}, "c.yaml")
    assert err.value.problems == [
        "c.yaml: topic_layouts.chirpstack_gateway[0]: must name {gateway} (got 'gw/{event}')",
        "c.yaml: topic_layouts.loriot: unknown source; known: chirpstack_gateway, chirpstack, tts",
    ]
