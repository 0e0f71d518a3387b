"""The claims ledger shows each note whole: pandas cuts text cells at 50 characters by default, which made the
chapters' ledgers end their notes mid-word ("... counted in th...")."""
import pickle

import pytest

from visionbook.measure import LEDGER_COLUMNS, claims_ledger

ENV = dict(hardware="test machine", date="2026-01-01")
LONG = ("paper column: the authors' model counted in the brief (FlopCounter), with every word of this note "
        "kept to the end of the sentence")


def ledger():
    return claims_ledger([dict(claim="encoder GMACs", paper=15.43, ours=15.4, unit="GMACs", note=LONG),
                          dict(claim="top-1", paper=83.8, ours=None, unit="%", note="not run")], env=ENV)


def test_notes_whole_in_html_and_text():
    led = ledger()
    assert LONG in led._repr_html_(), "the HTML view of the ledger cut a note short"
    assert LONG in repr(led), "the text view of the ledger cut a note short"
    assert "..." not in led._repr_html_()


def test_ledger_is_still_a_dataframe():
    import pandas as pd
    led = ledger()
    assert isinstance(led, pd.DataFrame) and list(led.columns) == list(LEDGER_COLUMNS)
    assert led.ratio[0] == round(15.4 / 15.43, 4) and led.ours[1] == "not reproduced at this scale"
    assert led.hardware.tolist() == ["test machine", ""] and led.note[0] == LONG


def test_ledger_pickles_and_keeps_whole_notes():
    back = pickle.loads(pickle.dumps(ledger()))
    assert type(back) is type(ledger()) and back.equals(ledger()) and LONG in back._repr_html_()


def test_pandas_default_is_left_alone():
    "Only ledgers show whole cells: a plain DataFrame keeps pandas' own setting."
    import pandas as pd
    assert pd.get_option("display.max_colwidth") == 50
    ledger()._repr_html_()
    assert pd.get_option("display.max_colwidth") == 50
    assert LONG not in pd.DataFrame(dict(note=[LONG]))._repr_html_()


@pytest.mark.parametrize("rows,msg", [([dict(paper=1.0)], "needs at least 'claim' and 'paper'"),
                                      ([dict(claim="x")], "needs at least 'claim' and 'paper'")])
def test_ledger_row_missing_keys(rows, msg):
    with pytest.raises(ValueError, match=msg):
        claims_ledger(rows, env=ENV)
