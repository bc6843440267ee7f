"""The shipped core instrument: constructs, sources, reverse coding and modules."""

from pathlib import Path

import pytest

from surveyapp.instruments import Instrument, load_instrument

CORE = Path(__file__).parents[2] / "instruments" / "social-cohesion-safety" / "1.0.0.yaml"
CORE_CONSTRUCTS = {"trust", "participation", "belonging", "perceived_safety"}


@pytest.fixture(scope="module")
def core() -> Instrument:
    """Load the core instrument once for this module."""
    return load_instrument(CORE)


def test_identity(core: Instrument) -> None:
    """The file declares the id, version and language the app stores."""
    assert (core.id, core.version, core.source_language) == (
        "social-cohesion-safety",
        "1.0.0",
        "en",
    )
    assert core.licence.spdx == "CC-BY-SA-4.0"


def test_four_core_constructs_with_four_to_eight_items(core: Instrument) -> None:
    """Each core construct has 4-8 items, all of them asked in the core module."""
    in_core = {c.id: c for c in core.constructs if c.module == "core"}
    assert set(in_core) == CORE_CONSTRUCTS
    for construct in in_core.values():
        assert 4 <= len(construct.items) <= 8, construct.id
        assert all(core.item(i).construct == construct.id for i in construct.items)


def test_every_item_cites_a_known_source(core: Instrument) -> None:
    """Every item names a source whose citation and licence are in the file."""
    for item in core.items:
        assert item.source in core.sources, item.id
    assert core.sources["ess"].licence == "CC BY-SA 4.0"
    assert "918-924" in core.sources["sampson_1997"].citation
    assert "771-791" in core.sources["buckner_1988"].citation


@pytest.mark.parametrize(
    "item_id",
    ["nbh_not_get_along", "nbh_not_share_values", "like_move_out", "felt_unsafe", "avoided_places"],
)
def test_negatively_worded_items_are_reverse_coded(core: Instrument, item_id: str) -> None:
    """Negatively worded items are reversed so that higher = more cohesion/safety."""
    assert core.item(item_id).reverse


def test_aesfdrk_is_coded_so_that_higher_is_safer(core: Instrument) -> None:
    """'Very safe' has the highest code, so no reverse coding is needed."""
    item = core.item("aesfdrk")
    assert not item.reverse
    assert {o.label: o.code for o in item.options}["Very safe"] == item.scale_max == 4


def test_ess_scale_keeps_ess_end_labels(core: Instrument) -> None:
    """A 0-10 item resolves its option set and shows the ESS end labels."""
    item = core.item("ppltrst")
    assert (item.scale_min, item.scale_max) == (0, 10)
    assert item.options[0].label == "You can't be too careful"
    assert item.options[-1].label == "Most people can be trusted"
    assert item.option_set == "ess0to10"


def test_missing_options_are_negative_and_resolved(core: Instrument) -> None:
    """Attitudinal items offer don't know and prefer not to say with negative codes."""
    item = core.item("nbh_trusted")
    assert [o.code for o in item.missing_options] == [-1, -2]
    assert item.scale_min == 1


def test_participation_yes_is_one(core: Instrument) -> None:
    """Yes/no items score yes 1 and no 0."""
    codes = {o.label: o.code for o in core.item("attended_meeting").options}
    assert codes == {"Yes": 1, "No": 0}


def test_descriptive_items_have_no_construct(core: Instrument) -> None:
    """The area-change and demographic items are not part of any index."""
    for item_id in ("area_change", "age_band", "household_size", "crmvct"):
        assert core.item(item_id).construct is None


def test_attention_check_in_its_own_module(core: Instrument) -> None:
    """The attention check expects 'Agree' and only appears when its module is on."""
    item = core.item("attention_agree")
    assert item.attention_check is not None
    expected = {o.code: o.label for o in item.options}[item.attention_check.expected]
    assert expected == "Agree"
    assert item not in {i for s in core.sections_for([]) for i in s.items}
    assert "attention" in [s.id for s in core.sections_for(["attention_check"])]


def test_sections_for_demographics(core: Instrument) -> None:
    """Choosing demographics adds it to core and leaves the other optional modules out."""
    modules = {s.module for s in core.sections_for(["demographics"])}
    assert modules == {"core", "demographics"}


def test_sections_for_unknown_module(core: Instrument) -> None:
    """An unknown module id is an error, not silently ignored."""
    with pytest.raises(ValueError, match="nonsense"):
        core.sections_for(["nonsense"])


def test_item_lookup(core: Instrument) -> None:
    """item() finds items by id and raises KeyError otherwise."""
    assert core.item("ppltrst").type == "scale"
    with pytest.raises(KeyError):
        core.item("no_such_item")


def test_show_if_on_twelve_month_victimisation(core: Instrument) -> None:
    """The 12-month item is only asked after a yes to the 5-year item."""
    show_if = core.item("crmvct_12m").show_if
    assert show_if is not None
    assert (show_if.item, show_if.codes) == ("crmvct", (1,))
