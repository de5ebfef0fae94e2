"""The trial table: validation errors that name the column and rows, shipped datasets, conversions."""

import numpy as np
import pandas as pd
import pytest

from neurometarl.data import (as_table, load_hbayesdm, load_rat_twostep, prepare_table, read_table,
                              recording_to_table, validate_table)
from neurometarl.data.registry import fetch
from neurometarl.errors import DataError


def bandit_table(n_subjects=2, n_trials=6):
    rows = [(s, t, (s + t) % 2, float(t % 3 == 0)) for s in range(n_subjects) for t in range(n_trials)]
    return pd.DataFrame(rows, columns=["subject", "trial", "choice", "reward"])


def test_valid_table_is_filled_in_and_sorted():
    df = bandit_table().sample(frac=1.0, random_state=0)
    out = validate_table(df)
    assert list(out[["subject", "trial"]].itertuples(index=False)) == sorted(df[["subject", "trial"]].itertuples(index=False))
    assert (out["session"] == 0).all() and (out["forced"] == 0).all() and (out["violation"] == 0).all()
    assert out["choice"].dtype == np.int8


def test_missing_column_is_named():
    with pytest.raises(DataError, match=r"lacks required column\(s\) \['reward'\]"):
        validate_table(bandit_table().drop(columns="reward"))
    with pytest.raises(DataError, match=r"\['transition'\]"):
        validate_table(bandit_table(), "twostep")


def test_choice_out_of_range_names_column_and_rows():
    df = bandit_table()
    df.loc[[3, 8], "choice"] = [2, -1]
    with pytest.raises(DataError, match=r"column 'choice' must be 0 or 1.*rows \[3, 8\]"):
        validate_table(df)


def test_nan_reward_names_column_and_rows():
    df = bandit_table()
    df.loc[5, "reward"] = np.nan
    with pytest.raises(DataError, match=r"column 'reward' is missing or not a finite number at rows \[5\]"):
        validate_table(df)
    df["violation"] = 0
    df.loc[5, "violation"] = 1  # an aborted trial may lack its reward
    assert validate_table(df).loc[5, "violation"] == 1


def test_subject_with_no_trials_is_named():
    df = bandit_table()
    df["subject"] = pd.Categorical(df["subject"], categories=[0, 1, 7])
    with pytest.raises(DataError, match=r"subject\(s\) \[7\] have no trials"):
        validate_table(df)
    df = bandit_table()
    df["violation"] = (df["subject"] == 1).astype(int)
    with pytest.raises(DataError, match=r"subject\(s\) \[1\] have no usable trials"):
        validate_table(df)


def test_duplicate_trials_and_bad_state2_are_rejected():
    df = pd.concat([bandit_table(), bandit_table().iloc[:1]], ignore_index=True)
    with pytest.raises(DataError, match=r"repeated at rows \[0, 12\]"):
        validate_table(df)
    ts = bandit_table(1, 8).assign(transition=1)
    ts["state2"] = ts["choice"]
    ts.loc[4, "state2"] = 1 - ts.loc[4, "choice"]  # common transition to the wrong state
    with pytest.raises(DataError, match=r"'state2' must follow.*rows \[4\]"):
        validate_table(ts)


def test_read_table_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path / "missing.csv")
    path = tmp_path / "t.csv"
    bandit_table().drop(columns="choice").to_csv(path, index=False)
    with pytest.raises(DataError, match="'choice'"):
        read_table(path)
    df = bandit_table()
    df.loc[4, "choice"] = 3
    df.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"t\.csv: column 'choice' must be 0 or 1 \(0 = left, 1 = right\).*rows \[4\].*file line = row \+ 2"):
        read_table(path)
    assert open(path).read().splitlines()[4 + 1].split(",")[2] == "3"  # file line 6 (1-based) is row 4


@pytest.mark.dataset("rat-twostep")
def test_rat_twostep_loader_matches_its_card():
    d = load_rat_twostep()
    assert len(d) == 36413
    counts = d.groupby("subject").size().to_dict()
    assert counts == {"M055": 12445, "M064": 10702, "M070": 6806, "M071": 4004, "M088": 1919, "M093": 537}
    assert d.groupby("subject")["session"].nunique().sum() == 52
    # 10 violation trials plus the 11 forced trials without a second-step port ('v')
    assert d["violation"].sum() == 21 and d["forced"].sum() == 4582
    free = d[d["violation"] == 0]
    assert 0.79 < free["transition"].mean() < 0.81  # 80 % common transitions
    rich = np.where(free["state2"] == 0, free["left_reward_prob"], free["right_reward_prob"])
    assert abs(free["reward"][rich == 0.8].mean() - 0.8) < 0.02


@pytest.mark.dataset("hbayesdm")
def test_hbayesdm_loaders():
    ts = load_hbayesdm("ts")
    assert ts["subject"].nunique() == 11 and {"transition", "state2", "choice2"} <= set(ts.columns)
    assert 0.65 < ts["transition"].mean() < 0.75  # 70 % common
    bandit = load_hbayesdm("bandit2arm")
    assert bandit.shape[0] == 2000 and set(bandit["reward"]) == {0.0, 1.0}
    assert (bandit["reward"] == (bandit["outcome"] > 0)).all()
    multi = load_hbayesdm("prl_multipleB")
    assert multi.groupby("subject")["session"].nunique().tolist() == [3, 3, 3]
    with pytest.raises(DataError, match="unknown hBayesDM example"):
        load_hbayesdm("igt")


@pytest.mark.dataset("hbayesdm")
def test_read_table_converts_source_formats():
    path = fetch("hbayesdm", "ts_exampleData.txt")
    assert read_table(path).equals(load_hbayesdm("ts"))


def test_recording_to_table_bandit_round_trip():
    from neurometarl.lab import record_session
    from neurometarl.models import make_baseline

    ds = record_session(make_baseline("rw", alpha=0.3, beta=3.0), "bandit-fixed", n_episodes=3, seed=1)
    table = recording_to_table(ds)
    assert len(table) == 3 * ds.sizes["trial"]
    assert (table["choice"].to_numpy() == ds["choice"].to_numpy().ravel()).all()
    assert (table["reward"].to_numpy() == ds["reward"].to_numpy().ravel()).all()
    assert table["subject"].nunique() == 3 and (table["session"] == 0).all()
    assert {"reward_prob_left", "reward_prob_right"} <= set(table.columns)
    one = recording_to_table(ds, episodes_as="sessions", subject="agent")
    assert (one["subject"] == "agent").all() and one["session"].nunique() == 3
    assert len(as_table(ds)) == len(table)


# --- import options -----------------------------------------------------------------------------
def coded_table():
    """A bandit table coded 1/2 with missed trials (-1 and empty) and two practice trials."""
    df = bandit_table(n_subjects=2, n_trials=8)
    df["choice"] = (df["choice"] + 1).astype(object)
    df.loc[[2, 10], "choice"] = -1
    df.loc[[5], "choice"] = np.nan
    df["practice"] = 0
    df.loc[[0, 8], "practice"] = 1
    return df


def test_import_options_round_trip():
    raw = coded_table()
    out = validate_table(prepare_table(raw, choice_coding="1-2", missed=["nan", -1], practice="practice"))
    assert len(out) == len(raw) - 2 and "practice" not in out
    assert out.loc[[2, 10, 5], "violation"].tolist() == [1, 1, 1]
    kept = raw.drop(index=[0, 8, 2, 10, 5])
    assert (out.loc[kept.index, "choice"].to_numpy() == kept["choice"].astype(int).to_numpy() - 1).all()
    words = bandit_table().assign(choice=lambda d: np.where(d["choice"] == 1, "Right", "left"))
    assert (validate_table(prepare_table(words, choice_coding="left-right"))["choice"].to_numpy()
            == validate_table(bandit_table())["choice"].to_numpy()).all()


def test_import_options_through_read_table_and_as_table(tmp_path):
    path = tmp_path / "coded.csv"
    coded_table().to_csv(path, index=False)
    options = dict(choice_coding="1-2", missed=["nan", "-1"], practice="practice")
    a = read_table(path, **options)
    b = as_table(coded_table(), **options)
    assert a["violation"].sum() == 3 and np.array_equal(a["choice"].to_numpy(), b["choice"].to_numpy())


def test_import_errors_name_the_fix():
    raw = coded_table().drop(columns="practice")
    raw.loc[[2, 10], "choice"] = 1
    raw.loc[[5], "choice"] = 2
    with pytest.raises(DataError, match=r"choices look 1-coded: pass --choice-coding 1-2 \(Python: choice_coding='1-2'\)"):
        validate_table(raw)
    with pytest.raises(DataError, match="look 1-coded: pass --choice-coding 1-2 and --missed -1"):
        validate_table(coded_table().fillna(-1))
    with pytest.raises(DataError, match=r"missed trials\? pass --missed nan"):
        validate_table(bandit_table().astype({"choice": float}).assign(choice=lambda d: d["choice"].where(d.index != 3)))
    with pytest.raises(DataError, match="pass --choice-coding left-right"):
        validate_table(bandit_table().assign(choice=lambda d: np.where(d["choice"] == 1, "right", "left")))
    with pytest.raises(DataError, match=r"coding '1-2' does not know.*pass --missed -1"):
        prepare_table(coded_table(), choice_coding="1-2")
    with pytest.raises(DataError, match="practice column 'warmup' is not in the table"):
        prepare_table(coded_table(), practice="warmup")
