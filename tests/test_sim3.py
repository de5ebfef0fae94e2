"""Sim 3 (Fig. 4): the condition analysis on known inputs, the baselines' signatures, and the experiment
end to end on a tiny training budget (plus the full claims from shipped checkpoints, slow)."""

import numpy as np
import pytest

from neurometarl.cli import main
from neurometarl.experiments import run_experiment, sim3
from neurometarl.experiments.base import load_numbers
from neurometarl.settings import checkpoints_dir
from neurometarl.seeding import make_generator
from neurometarl.tasks import make_task


def perfect_play_arrays(n_streams=300, seed=0):
    """The analysis arrays (episode, trial) of a valid player of the stream protocol."""
    task = make_task("reversal-stream", n_streams)
    _, info = task.reset(make_generator(seed))
    lat = {k: [] for k in task.latents}
    outcome = []
    for step in range(task.n_steps):
        if step % 4 == 2:
            for k, values in lat.items():
                values.append(info[k].numpy())
        _, r, _, info = task.step(info["valid_actions"].float().argmax(1))
        if step % 4 == 3:
            outcome.append(r.numpy())
    a = {k: np.stack(v, 1).astype(int) for k, v in lat.items()}
    a["valid"] = np.ones_like(a["cue"], bool)
    a["rewarded"] = np.stack(outcome, 1).astype(int)
    return a


@pytest.fixture(scope="module")
def arrays():
    return perfect_play_arrays()


def test_conditions_of_an_oracle_that_knows_the_assignment(arrays):
    # an RPE that equals +1 on the rewarded cue and −1 on the other, from the first trial on
    oracle = np.where(arrays["cue"] == arrays["rewarded_cue"], 1.0, -1.0)
    out = sim3.condition_rpes(oracle, arrays, stream=True)
    for cond in ("pre_reversal", "experienced", "inferred"):
        assert out[cond]["new_rewarded"]["mean"] == 1 and out[cond]["old_rewarded"]["mean"] == -1
    # the trial before the reversal: the old-rewarded cue was the rewarded one then
    assert out["last_before"]["old_rewarded"]["mean"] == 1 and out["last_before"]["new_rewarded"]["mean"] == -1
    n = {c: out[c]["old_rewarded"]["n"] + out[c]["new_rewarded"]["n"] for c in out}
    assert n["experienced"] + n["inferred"] == n["pre_reversal"] > 1000  # every reversed episode after the first
    assert 0.4 < n["experienced"] / n["pre_reversal"] < 0.6


def test_model_free_baseline_has_no_inferred_effect_and_the_observer_a_full_one(arrays):
    rpes = sim3.baseline_rpes(arrays, episode_trials=5)
    mf = sim3.condition_rpes(rpes["mf"], arrays, stream=True)
    hmm = sim3.condition_rpes(rpes["hmm"], arrays, stream=True)
    effect = lambda out, c: out[c]["new_rewarded"]["mean"] - out[c]["old_rewarded"]["mean"]
    # model-free: the experienced cue's value moved, the other cue kept its old value
    assert effect(mf, "experienced") > 0.2 and effect(mf, "inferred") < -0.5
    assert effect(mf, "pre_reversal") < -0.5  # it still values the old-rewarded cue
    # the ideal observer: both cues flip after one outcome; nothing is known on trial 1
    assert effect(hmm, "inferred") == pytest.approx(effect(hmm, "experienced"), abs=1e-6)
    assert effect(hmm, "inferred") > 0.95 and abs(effect(hmm, "pre_reversal")) < 1e-9


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim3")
    card = run_experiment("sim3", out, retrain=True, n_seeds=2, scale=0.02, progress=False, sizes={"n_test": 20})
    return card, out


def test_tiny_experiment_writes_scorecard_numbers_and_figure(tiny):
    card, out = tiny
    assert {c["claim"] for c in card["claims"]} == {"inferred_sign_flip", "inferred_as_large_as_experienced",
                                                    "pre_reversal_opposite", "replicas_consistent", "baselines",
                                                    "state_clusters_flip"}
    for c in card["claims"]:
        assert "not computed" not in str(c["measured"]), c
    ds = load_numbers(out)  # numbers.nc: a labelled Dataset
    assert not (out / "numbers.json").exists()
    assert all({"long_name", "units"} <= set(ds[v].attrs) for v in ds.data_vars)
    assert ds["rpe"].dims == ("subject", "condition", "cue", "replica")
    assert ds["subject"].values.tolist() == list(sim3.SUBJECTS) and ds["condition"].values.tolist() == list(sim3.CONDITIONS)
    assert ds.sizes["replica"] == 2 and ds["separation"].dims == ("replica",)
    assert ds["flip"].dims == ("relative_trial", "replica") and ds["relative_trial"].values.tolist() == [0, 1, 2, 3, 4, 5]
    assert ds["paper_rpe"].sel(condition="inferred").values.tolist() == list(sim3.SIM3.reference_values["paper_rpe"]["inferred"])
    # every reversed trial 1 after a stream's first is counted once, in pre-reversal and in one trial-2 condition
    n = ds["n_trials"].sum(("cue", "replica"))
    assert int(n.sel(condition="experienced") + n.sel(condition="inferred")) <= int(n.sel(condition="pre_reversal"))
    assert ds["pca_pc"].dims == ("point", "component") and ds["example_pc"].sizes["example_trial"] == 3
    assert (out / "fig4.png").stat().st_size > 50_000 and (out / "fig4.pdf").is_file()
    (out / "fig4.png").unlink()
    assert main(["figure", "sim3", "--results", str(out)]) == 0 and (out / "fig4.png").is_file()
    trained = out / "checkpoints" / "sim3" / "agent" / "seed1" / "checkpoint.pt"
    assert trained.is_file()


@pytest.mark.slow
@pytest.mark.skipif(not (checkpoints_dir() / "sim3" / "agent" / "seed7" / "checkpoint.pt").is_file(), reason="no shipped sim3 checkpoints")
def test_shipped_checkpoints_pass_every_claim(tmp_path):
    card = run_experiment("sim3", tmp_path, progress=False)
    failed = [(c["claim"], c["measured"]) for c in card["claims"] if not c["pass"]]
    assert not failed, failed
